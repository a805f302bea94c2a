package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
)

// tlsFiles are the TLS flags of pull, feed add and feed set: a CA for a
// source whose certificate a private CA signs, and a client certificate
// for a source that asks for one (mutual TLS), each a PEM file.
type tlsFiles struct {
	ca, cert, key string
}

// flags registers --ca, --cert and --key; stored says what becomes of them.
func (t *tlsFiles) flags(fs *flag.FlagSet, stored string) {
	fs.StringVar(&t.ca, "ca", "", "PEM file of the CA certificates that sign the source's certificate"+stored)
	fs.StringVar(&t.cert, "cert", "", "PEM file of the client certificate to present to a source that asks for one, with --key"+stored)
	fs.StringVar(&t.key, "key", "", "PEM file of the client certificate's private key"+stored)
}

// read returns the contents of the files given, "" for the others,
// checked: the CA holds a certificate, and the client certificate and key
// are a pair.
func (t tlsFiles) read() (ca, cert, key string, err error) {
	if (t.cert == "") != (t.key == "") {
		return "", "", "", errors.New("--cert and --key go together: the client certificate and its private key")
	}
	read := func(flag, path string) (string, error) {
		if path == "" {
			return "", nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("--%s: %w", flag, err)
		}
		return string(b), nil
	}
	if ca, err = read("ca", t.ca); err != nil {
		return "", "", "", err
	}
	if ca != "" && !x509.NewCertPool().AppendCertsFromPEM([]byte(ca)) {
		return "", "", "", fmt.Errorf("--ca %s holds no PEM certificate", t.ca)
	}
	if cert, err = read("cert", t.cert); err != nil {
		return "", "", "", err
	}
	if key, err = read("key", t.key); err != nil {
		return "", "", "", err
	}
	if cert != "" {
		if _, err := tls.X509KeyPair([]byte(cert), []byte(key)); err != nil {
			return "", "", "", fmt.Errorf("--cert %s and --key %s: %v", t.cert, t.key, err)
		}
	}
	return ca, cert, key, nil
}
