//go:build unix && !aix

package transport

import (
	"net"
	"syscall"
)

// peerSpoke reports whether an idle connection has something to read: a
// FIN, a reset, a TLS alert or stray bytes. None of that may come before a
// request's response, so such a connection is not reused. One non-blocking
// MSG_PEEK recv; false when the connection gives no access to its socket.
func peerSpoke(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	spoke := false
	var b [1]byte
	rerr := rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINTR:
		case err != nil, n >= 0:
			spoke = true // data, EOF (n == 0) or a socket error
		}
		return true // never wait for readiness
	})
	return spoke || rerr != nil
}
