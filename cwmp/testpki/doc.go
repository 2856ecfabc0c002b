// Package testpki makes certificate authorities and the certificates they
// sign, for tests that run real TLS on loopback (the ACS simulator, the
// transport, downloads, the daemon end to end). Keys are ECDSA P-256 and
// certificates are valid from an hour ago to an hour from now. Only tests
// import it; nothing in the daemon does.
package testpki
