package pattern

import "testing"

var (
	simplePattern   = "[ipv4-addr:value = '198.51.100.1']"
	compoundPattern = "([file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' OR file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] AND [network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com']) FOLLOWEDBY [url:value IN ('http://example.com/foo', 'http://example.com/bar') AND NOT EXISTS url:x_seen] WITHIN 300 SECONDS"
)

func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct{ name, pattern string }{
		{"Simple", simplePattern},
		{"Compound", compoundPattern},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.pattern)))
			for b.Loop() {
				if _, err := Parse(bc.pattern); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkObservables(b *testing.B) {
	for _, bc := range []struct{ name, pattern string }{
		{"Simple", simplePattern},
		{"Compound", compoundPattern},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p, err := Parse(bc.pattern)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if len(p.Observables()) == 0 {
					b.Fatal("no observables")
				}
			}
		})
	}
}

func BenchmarkString(b *testing.B) {
	p, err := Parse(compoundPattern)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = p.String()
	}
}

func BenchmarkDetect(b *testing.B) {
	values := []string{"198.51.100.1", "hxxps://evil[.]example/login", "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f", "evil.example"}
	b.ReportAllocs()
	for b.Loop() {
		for _, v := range values {
			if _, _, ok := Detect(v); !ok {
				b.Fatal(v)
			}
		}
	}
}
