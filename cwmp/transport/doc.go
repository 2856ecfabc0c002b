// Package transport owns the CPE's HTTP(S) client for one CWMP session
// (cwmp-digest.md D§2, D§14): it moves opaque SOAP bytes to the ACS and back
// and knows nothing of SOAP itself.
//
// One Client is one session. Within it:
//
//   - every exchange is a POST on ONE kept-alive TCP connection, written and
//     read on the caller's goroutine (conn.go; no http.Transport), never
//     pipelined, HTTP/1.1 only. Bodies are read or drained (up to 64 KiB)
//     so that the connection stays usable; a longer or unread body, a
//     "Connection: close" or any error closes it, and the next POST of the
//     session dials again. Response headers are limited to 64 KiB, and
//     interim 1xx answers are skipped;
//   - headers follow D§2.1: an empty POST has no body (Content-Length: 0),
//     no SOAPAction and no Content-Type; a SOAP request or a SOAP
//     response/fault carries an empty "SOAPAction:" and
//     Content-Type: text/xml; charset="utf-8";
//   - a 401 is answered once with credentials: Digest (qop=auth, MD5,
//     MD5-sess, SHA-256) whenever the ACS offers it, else Basic. The digest
//     state (nonce, cnonce, nonce count) is reused pre-emptively on the
//     following POSTs on the same TCP connection, so the ACS sees one
//     challenge per connection (per session when it keeps the connection
//     alive), not one per POST. D§2.3 wants a fresh cnonce, and a fresh
//     nonce from the ACS, on every new TCP connection: the first POST on a
//     new connection therefore goes without credentials, and the ACS
//     challenges afresh. Keeping the nonce with a new cnonce was rejected:
//     nc restarting at 1 looks like a replay to an ACS that counts it per
//     nonce, and an ACS that issues a nonce per connection refuses the old
//     one anyway. Credentials made from a challenge go on the next
//     connection even if the ACS closed the one the 401 came on. A second
//     401 after answering is an error, not a loop; the only extra try is
//     for a Digest challenge that says stale=true;
//   - Basic is sent only over TLS. Over plain http:// a challenge that offers
//     nothing but Basic fails the session (KindAuth) unless
//     Config.AllowBasicOverHTTP is set: D§2.3 says Digest must be used
//     without TLS, and a password in clear text on the WAN is worse than a
//     failed session an operator can see in last-session-error;
//   - cookies live in a jar that belongs to the Client and dies with it,
//     never persisted (D§2.4). A session keeps at most 50 cookies of at
//     most 16 KiB together, measured as they would go in a Cookie header
//     (RFC 6265 §6.1 asks for at least 50 per domain; one ACS needs one or
//     two). Cookies for paths or hosts the session never posts to count
//     too, since the jar keeps them all the same; a cookie set again
//     replaces its count, one deleted frees it. An answer that takes the
//     session past the limit fails its exchange (KindBody), the jar is
//     dropped at once and every later POST of the session fails the same
//     way: cookies are never dropped silently, and neither memory nor the
//     Cookie header grows without bound;
//   - redirects 301, 302, 307 and 308 are followed with the same POST body,
//     at most 5 per session (D§2.6), and only until a POST of the session
//     was answered with 200 or 204 (the Inform): a redirect after that is
//     an error (KindRedirect), as the ACS that holds the session moved it
//     to a server that knows nothing of it. The new location applies to
//     this Client only and URL reports it. A redirect from https to http is refused, and
//     credentials are not carried to another origin (its own 401 is answered
//     instead);
//   - ConnectTimeout bounds TCP connect and the TLS handshake,
//     ExchangeTimeout bounds each HTTP request/response, including reading
//     the body, MaxBodyBytes bounds the response body;
//   - TLS is 1.2 or later and verifies the ACS certificate chain and host
//     name against the system roots or, when CACertPEM is set, against those
//     CAs only. A client certificate is presented when configured.
//
// Failures are *Error values with a Kind for the session logic and a
// UserMessage fit for the operator's last-session-error. Neither errors nor
// logs ever carry the password or an Authorization header.
package transport
