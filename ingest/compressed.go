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
func Unpack(r io.Reader, dir string) (*Unpacked, error) {
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
		return &Unpacked{Reader: &checked{r: zr, kind: CompressionGzip}, Compression: CompressionGzip, Name: zr.Name}, nil
	case bytes.Equal(head, zipMagic), bytes.Equal(head, emptyZipMagic):
		return unzip(br, dir)
	}
	return &Unpacked{Reader: br}, nil
}

// unzip copies a zip archive to a temporary file and opens the one file
// it holds.
func unzip(r io.Reader, dir string) (*Unpacked, error) {
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
	size, err := io.Copy(tmp, r)
	if err != nil {
		cleanup()
		return nil, err
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
	rc, err := files[0].Open()
	if err != nil {
		cleanup()
		return nil, damaged(CompressionZip, err)
	}
	return &Unpacked{
		Reader: &checked{r: rc, kind: CompressionZip}, Compression: CompressionZip, Name: files[0].Name,
		close: func() error { rc.Close(); return cleanup() },
	}, nil
}

// checked turns the decompressor's own errors into EINVALID, so that a
// damaged upload is the sender's mistake (400), not the server's (500).
type checked struct {
	r    io.Reader
	kind string
}

func (c *checked) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF && isDamage(err) {
		err = damaged(c.kind, err)
	}
	return n, err
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
