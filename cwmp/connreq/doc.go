// Package connreq owns the HTTP connection-request server of TR-069 §3.2.2
// (cwmp-digest.md D§13.1, D§14): the port the ACS pokes to make the CPE
// open a session.
//
// What it does, and deliberately nothing more:
//
//   - serves one path only, "/" followed by at least 16 random hex digits.
//     NewPath draws one from a source the caller injects; the caller
//     persists it (journal) and passes it back in Config.Path on every start
//     so ConnectionRequestURL stays stable. Any other path is 404, the "*"
//     of "OPTIONS *" included (net/http's own OPTIONS handler is off);
//   - answers GET only (405 otherwise) and only with valid HTTP Digest
//     credentials (qop=auth, MD5 — what every ACS speaks). Basic is refused
//     with a Digest challenge. Credentials come from a callback each time, so
//     a change of ConnectionRequestUsername/Password applies at once; an
//     empty username or password refuses everything;
//   - never acts on the request's content: query and body are ignored and
//     the body is not even read (the connection is closed instead);
//   - rate-limits with a token bucket consulted BEFORE authentication, so a
//     flood costs neither digest computations nor nonce-table entries. Every
//     request on the right path with GET takes a token, including the
//     unauthenticated first leg of the handshake: one connection request
//     costs two tokens. Past the limit the answer is 503. D§13.1 says
//     "without Retry-After"; Config.RetryAfter adds one for ACSs that want
//     it;
//   - bounds memory under a flood: a fixed number of connections at once
//     (further ones wait in the kernel's backlog), small header limits,
//     header/read/write/idle timeouts, connections closed after every answer
//     other than a 401 challenge, and a nonce table that only successful
//     authentications can grow (see digest.Verifier);
//   - reports every outcome to Config.OnRequest as an Attempt after the
//     answer has been written and flushed, so an accepted request's 200 never
//     waits for the daemon. The callback still runs on the request's
//     goroutine and must be fast: journal, wake the conductor, return.
//
// Coalescing is the caller's job: several accepted attempts before the
// session starts must lead to ONE session with one "6 CONNECTION REQUEST"
// (D§13.1), and an attempt during a running session must not cut it short.
// This package answers 200 to every authenticated request within the rate
// limit and leaves that policy to the daemon.
package connreq
