package ingest

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"hail"
)

// Compressions Unpack recognises, by their first bytes rather than by a
// file name or a Content-Type, which feeds often get wrong.
const (
	CompressionGzip = "gzip" // RFC 1952: "1f 8b"
	CompressionZip  = "zip"  // PKWARE's format: "PK\x03\x04", or "PK\x05\x06" when empty
)

var (
	gzipMagic     = []byte{0x1f, 0x8b}
	zipMagic      = []byte("PK\x03\x04")
	emptyZipMagic = []byte("PK\x05\x06")
)

// Unpacked is an input with its compression taken off.
type Unpacked struct {
	io.Reader
	// Compression is CompressionGzip, CompressionZip or "" for none.
	Compression string
	// Name is the name the archive gives the file it holds ("" when it
	// gives none), whose extension tells a CSV list from a plain one.
	Name  string
	close func() error
}

// InnerName is the name of the file u holds, given outer, the name the
// input came under: the one its archive gives, or outer without the
// compression's extension (lists.csv.gz holds lists.csv).
func (u *Unpacked) InnerName(outer string) string {
	if u.Name != "" {
		return u.Name
	}
	if u.Compression == CompressionGzip {
		for _, ext := range []string{".gz", ".gzip"} {
			if n, ok := strings.CutSuffix(strings.ToLower(outer), ext); ok {
				return outer[:len(n)]
			}
		}
	}
	return outer
}

// Close releases what Unpack took: a zip archive's temporary copy.
func (u *Unpacked) Close() error {
	if u.close == nil {
		return nil
	}
	return u.close()
}

// Unpack returns r's content, decompressed when r is gzip (read as a
// stream) or a zip archive holding one file (copied first to a temporary
// file in dir, or os.TempDir() when dir is "", since a zip archive's index
// is at its end). Anything else comes back as it is. Damaged or unusable
// archives give EINVALID, before or while the content is read; errors of r
// itself come back unchanged.
//
// When max is above 0 the content, decompressed, may be at most max bytes:
// past that the read fails with ETOOLARGE. A limit on what was sent alone
// would let a small archive of repeated bytes (deflate packs up to about
// 1,000 to 1) carry a thousand times what the sender could send plainly.
func Unpack(r io.Reader, dir string, max int64) (*Unpacked, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(len(zipMagic))
	if err != nil && err != io.EOF {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, damaged(CompressionGzip, err)
		}
		return &Unpacked{Reader: &checked{r: zr, kind: CompressionGzip, max: max}, Compression: CompressionGzip, Name: zr.Name}, nil
	case bytes.Equal(head, zipMagic), bytes.Equal(head, emptyZipMagic):
		return unzip(br, dir, max)
	}
	if max > 0 {
		return &Unpacked{Reader: &checked{r: br, max: max}}, nil
	}
	return &Unpacked{Reader: br}, nil
}

// unzip copies a zip archive to a temporary file and opens the one file
// it holds.
func unzip(r io.Reader, dir string, max int64) (*Unpacked, error) {
	tmp, err := os.CreateTemp(dir, "hail-import-*.zip")
	if err != nil {
		return nil, fmt.Errorf("unpack zip: %w", err)
	}
	cleanup := func() error {
		err := tmp.Close()
		if rm := os.Remove(tmp.Name()); err == nil {
			err = rm
		}
		return err
	}
	src := r
	if max > 0 {
		// The archive itself is held to max too: it is spooled to disk
		// before a byte of it is checked.
		src = io.LimitReader(r, max+1)
	}
	size, err := io.Copy(tmp, src)
	if err != nil {
		cleanup()
		return nil, err
	}
	if max > 0 && size > max {
		cleanup()
		return nil, hail.Errorf(hail.ETOOLARGE, "The zip archive is larger than the limit of %d bytes.", max)
	}
	zr, err := zip.NewReader(tmp, size)
	if err != nil {
		cleanup()
		return nil, damaged(CompressionZip, err)
	}
	var files []*zip.File
	for _, f := range zr.File {
		if !f.FileInfo().IsDir() {
			files = append(files, f)
		}
	}
	if len(files) != 1 {
		cleanup()
		names := make([]string, 0, 3)
		for _, f := range files[:min(len(files), 3)] {
			names = append(names, f.Name)
		}
		return nil, hail.Errorf(hail.EINVALID, "The zip archive holds %d files (%s); hail imports an archive of one.",
			len(files), strings.Join(names, ", "))
	}
	if max > 0 && files[0].UncompressedSize64 > uint64(max) {
		// The size the archive declares is refused before any of it is
		// read; one that lies is caught by checked as the content comes.
		cleanup()
		return nil, tooLarge(max)
	}
	rc, err := files[0].Open()
	if err != nil {
		cleanup()
		return nil, damaged(CompressionZip, err)
	}
	return &Unpacked{
		Reader: &checked{r: rc, kind: CompressionZip, max: max}, Compression: CompressionZip, Name: files[0].Name,
		close: func() error { rc.Close(); return cleanup() },
	}, nil
}

// checked turns the decompressor's own errors into EINVALID, so that a
// damaged upload is the sender's mistake (400), not the server's (500),
// and holds the content to max bytes when max is above 0.
type checked struct {
	r    io.Reader
	kind string // "" for content that was not compressed
	max  int64
	n    int64 // bytes returned so far
}

func (c *checked) Read(p []byte) (int, error) {
	if c.max > 0 {
		if c.n >= c.max {
			// One byte more than max tells a content of exactly max
			// bytes, which is allowed, from a longer one.
			var one [1]byte
			n, err := io.ReadFull(c.r, one[:])
			if n > 0 {
				return 0, c.tooLarge()
			}
			return 0, c.damaged(err)
		}
		if rest := c.max - c.n; int64(len(p)) > rest {
			p = p[:rest]
		}
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, c.damaged(err)
}

func (c *checked) damaged(err error) error {
	if err != nil && err != io.EOF && c.kind != "" && isDamage(err) {
		return damaged(c.kind, err)
	}
	return err
}

func (c *checked) tooLarge() error {
	if c.kind == "" {
		return hail.Errorf(hail.ETOOLARGE, "The content is larger than the limit of %d bytes.", c.max)
	}
	return tooLarge(c.max)
}

func tooLarge(max int64) error {
	return hail.Errorf(hail.ETOOLARGE, "The content is larger than the limit of %d bytes once decompressed.", max)
}

// isDamage reports whether err is a decompressor's finding about its
// input rather than an error of reading it.
func isDamage(err error) bool {
	var corrupt flate.CorruptInputError
	return errors.As(err, &corrupt) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) ||
		errors.Is(err, zip.ErrChecksum) || errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrAlgorithm) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}

func damaged(kind string, err error) error {
	return hail.Errorf(hail.EINVALID, "The %s input is damaged: %v.", kind, err)
}
