package connreq

import (
	"net"
	"sync"
)

// limitListener holds at most cap(sem) connections open; Accept waits for a
// slot, leaving further clients in the kernel's backlog rather than in our
// heap. The listeners of one server share sem.
type limitListener struct {
	net.Listener
	sem  chan struct{}
	done chan struct{}
	once sync.Once
}

func newLimitListener(l net.Listener, sem chan struct{}) *limitListener {
	return &limitListener{Listener: l, sem: sem, done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

// closed reports whether Close was called (its Serve's error is expected).
func (l *limitListener) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
