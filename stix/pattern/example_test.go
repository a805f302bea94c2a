package pattern_test

import (
	"fmt"

	"hail/stix/pattern"
)

func ExampleParse() {
	p, err := pattern.Parse("[file:hashes.SHA-256 = 'AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F'] AND [domain-name:value='Evil.Example.']  WITHIN 600 SECONDS")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p)
	for _, o := range p.Observables() {
		fmt.Println(o.Type, o.Value)
	}
	// Output:
	// [file:hashes.'SHA-256' = 'AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F'] AND [domain-name:value = 'Evil.Example.'] WITHIN 600 SECONDS
	// sha256 aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f
	// domain evil.example
}

func ExampleParse_error() {
	_, err := pattern.Parse("[ipv4-addr:value = '198.51.100.1'] within 5 SECONDS")
	fmt.Println(err)
	// Output:
	// at position 35: expected "AND", "OR", "FOLLOWEDBY", a qualifier or end of pattern, found "within" (keywords are upper-case)
}

func ExampleDetect() {
	for _, v := range []string{"hxxps://Evil[.]Example/Login", "198.51.100.0/24", "CVE-2021-44228", "Bob[@]evil.example"} {
		typ, norm, ok := pattern.Detect(v)
		fmt.Println(typ, norm, ok)
	}
	// Output:
	// url https://evil.example/Login true
	// cidr 198.51.100.0/24 true
	// cve CVE-2021-44228 true
	// email bob@evil.example true
}
