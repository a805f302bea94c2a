package ingest

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"hail"
)

func gzipped(t testing.TB, name, content string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Name = name
	zw.Write([]byte(content))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zipped(t testing.TB, files ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i := 0; i+1 < len(files); i += 2 {
		w, err := zw.Create(files[i])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[i+1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestUnpack(t *testing.T) {
	const list = "203.0.113.1\nevil.example\n"
	tests := []struct {
		name, compression, file string
		input                   []byte
	}{
		{"plain", "", "", []byte(list)},
		{"gzip", CompressionGzip, "ips.txt", gzipped(t, "ips.txt", list)},
		{"gzip without a name", CompressionGzip, "", gzipped(t, "", list)},
		{"zip of one file", CompressionZip, "full/urls.csv", zipped(t, "full/", "", "full/urls.csv", list)},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		u, err := Unpack(bytes.NewReader(tt.input), dir, 0)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		got, err := io.ReadAll(u)
		if err != nil || string(got) != list || u.Compression != tt.compression || u.Name != tt.file {
			t.Errorf("%s: read %q (%v) as %q named %q; want %q as %q named %q", tt.name, got, err, u.Compression, u.Name,
				list, tt.compression, tt.file)
		}
		if err := u.Close(); err != nil {
			t.Errorf("%s: Close: %v", tt.name, err)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("%s: %d files left in the temporary directory after Close", tt.name, len(left))
		}
	}
}

func TestUnpackRefusesDamage(t *testing.T) {
	gz := gzipped(t, "", strings.Repeat("203.0.113.1\n", 1000))
	bad := bytes.Clone(gz)
	bad[len(bad)-6] ^= 0xff // the CRC-32
	tests := []struct {
		name  string
		input []byte
		want  string
	}{
		{"gzip cut short", gz[:len(gz)/2], "gzip input is damaged"},
		{"gzip checksum", bad, "gzip input is damaged"},
		{"gzip header only", gz[:4], "gzip input is damaged"},
		{"zip of two files", zipped(t, "a.txt", "1.2.3.4\n", "b.txt", "5.6.7.8\n"), "holds 2 files (a.txt, b.txt)"},
		{"empty zip", zipped(t), "holds 0 files"},
		{"zip cut short", zipped(t, "a.txt", "1.2.3.4\n")[:20], "zip input is damaged"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		u, err := Unpack(bytes.NewReader(tt.input), dir, 0)
		if err == nil {
			_, err = io.ReadAll(u)
			u.Close()
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) || hail.ErrorCode(err) != hail.EINVALID {
			t.Errorf("%s: error %v; want EINVALID saying %q", tt.name, err, tt.want)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("%s: %d files left in the temporary directory", tt.name, len(left))
		}
	}
}

// noise returns n hexadecimal digits that deflate cannot pack much.
func noise(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = "0123456789abcdef"[r.IntN(16)]
	}
	return string(b)
}

func TestUnpackLimit(t *testing.T) {
	// A content of exactly the limit is read whole; one byte more is
	// refused with ETOOLARGE, however it was packed. A zip archive that
	// declares a larger member is refused before any of it is read.
	const limit = 12000 // 1,000 lines of 12 bytes
	fits := strings.Repeat("203.0.113.1\n", 1000)
	over := fits + "x"
	tests := []struct {
		name       string
		input      []byte
		want       string // "" when the content fits
		beforeRead bool
	}{
		{"plain, at the limit", []byte(fits), "", false},
		{"gzip, at the limit", gzipped(t, "", fits), "", false},
		{"zip, at the limit", zipped(t, "a.txt", fits), "", false},
		{"plain, a byte over", []byte(over), "larger than the limit of 12000 bytes.", false},
		{"gzip, a byte over", gzipped(t, "", over), "larger than the limit of 12000 bytes once decompressed", false},
		{"zip, a byte over", zipped(t, "a.txt", over), "larger than the limit of 12000 bytes once decompressed", true},
		{"gzip bomb", gzipped(t, "", strings.Repeat("0", 10<<20)), "once decompressed", false},
		{"zip larger than the limit itself", zipped(t, "a.txt", noise(40000)), "zip archive is larger than the limit", true},
	}
	for _, tt := range tests {
		u, err := Unpack(bytes.NewReader(tt.input), t.TempDir(), limit)
		if (err != nil) != tt.beforeRead {
			t.Errorf("%s: Unpack: %v", tt.name, err)
			continue
		}
		var got []byte
		if err == nil {
			got, err = io.ReadAll(u)
			u.Close()
		}
		if tt.want == "" {
			if err != nil || string(got) != fits {
				t.Errorf("%s: read %d bytes (%v); want all %d", tt.name, len(got), err, len(fits))
			}
			continue
		}
		if hail.ErrorCode(err) != hail.ETOOLARGE || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want ETOOLARGE saying %q", tt.name, err, tt.want)
		}
		if len(got) > limit {
			t.Errorf("%s: read %d bytes, past the limit", tt.name, len(got))
		}
	}
}

func TestUnpackPassesReadErrors(t *testing.T) {
	// An error of the input itself (a body over its size limit, a broken
	// connection) is not the archive's damage and comes back unchanged.
	gz := gzipped(t, "", strings.Repeat("203.0.113.1\n", 10000))
	u, err := Unpack(io.MultiReader(bytes.NewReader(gz[:100]), iotestErr{}), "", 0)
	if err == nil {
		_, err = io.ReadAll(u)
	}
	if err != errBroken {
		t.Errorf("error %v, want the input's own", err)
	}
}

var errBroken = io.ErrClosedPipe

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errBroken }

// FuzzUnpack checks that any input is unpacked or refused with EINVALID,
// never a panic, and leaves no temporary file behind.
func FuzzUnpack(f *testing.F) {
	f.Add([]byte("1.2.3.4\n"))
	f.Add(gzipped(f, "a.csv", "ip\n1.2.3.4\n"))
	f.Add(zipped(f, "a.txt", "1.2.3.4\n"))
	f.Add([]byte("PK\x03\x04garbage"))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		const max = 1 << 20
		u, err := Unpack(bytes.NewReader(data), dir, max)
		n := int64(0)
		if err == nil {
			n, err = io.Copy(io.Discard, u)
			if cerr := u.Close(); cerr != nil {
				t.Errorf("Close: %v", cerr)
			}
		}
		if code := hail.ErrorCode(err); err != nil && code != hail.EINVALID && code != hail.ETOOLARGE {
			t.Errorf("error %v is neither EINVALID nor ETOOLARGE", err)
		}
		if n > max {
			t.Errorf("read %d bytes past the limit of %d", n, max)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("%d files left in the temporary directory", len(left))
		}
	})
}

// BenchmarkUnpackGzip reads a gzipped list of 10,000 lines through Unpack,
// against which the list's own reading compares (BenchmarkReadListText).
func BenchmarkUnpackGzip(b *testing.B) {
	list := listOf(10000)
	gz := gzipped(b, "list.txt", list)
	b.SetBytes(int64(len(list)))
	b.ReportAllocs()
	for b.Loop() {
		u, err := Unpack(bytes.NewReader(gz), "", 0)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, u); err != nil || n != int64(len(list)) {
			b.Fatalf("read %d bytes, %v", n, err)
		}
	}
}
