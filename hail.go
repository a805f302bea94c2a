// Package hail holds the vocabulary shared by every layer of the hail
// threat-intelligence server: the error type and its codes, and the version.
// It imports nothing beyond the standard library, so every other package may
// depend on it.
package hail

// Version is the server's version, reported by `hail version` and the
// discovery resource.
const Version = "0.1.0"
