// Package digest owns HTTP authentication header handling for cwmpd, in both
// directions, as bytes and strings only (no I/O):
//
//   - parsing WWW-Authenticate challenges (RFC 7235 §4.1 grammar: several
//     challenges in one header, Digest and Basic, token68, quoted strings
//     with escapes, case-insensitive names) and Authorization headers;
//   - the client side of Digest (RFC 7616, with RFC 2617's qop=auth and the
//     RFC 2069 no-qop fallback): MD5, MD5-sess, SHA-256 and SHA-256-sess,
//     with a per-challenge nonce count, as the CPE needs it against its ACS
//     (cwmp-digest.md D§2.3);
//   - a server-side Verifier for the connection-request server (D§13.1,
//     D§14): stateless nonces bound to a per-process secret with HMAC and an
//     expiry, a bounded table of used nonces that refuses a replayed nonce
//     count, and constant-time comparisons.
//
// Parsers never panic on any input (fuzzed by FuzzParseChallenge and
// FuzzParseAuthorization) and refuse rather than guess: a duplicated
// parameter or an unterminated quoted string is an error. Passwords are
// never part of an error message.
package digest
