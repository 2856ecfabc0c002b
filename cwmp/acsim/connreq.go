package acsim

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/digest"
)

// ConnReqResult is the outcome of one connection request.
type ConnReqResult struct {
	URL string `json:"url"`
	// Status is the final HTTP status (after the Digest leg, if any).
	Status int `json:"status"`
	// Challenged is true when the CPE answered 401 first.
	Challenged bool   `json:"challenged"`
	Error      string `json:"error,omitempty"`
}

// ConnectionRequest sends an HTTP connection request (D§13.1) to the
// ConnectionRequestURL of device's last Inform, or to target when it is
// not empty. A 401 is answered once with Digest credentials from
// Config.ConnReqUsername/ConnReqPassword. The error is non-nil only when
// no HTTP answer came back at all; a refusal is a Status.
func (s *Server) ConnectionRequest(ctx context.Context, device, target string) (ConnReqResult, error) {
	if target == "" {
		d, ok := s.Device(device)
		if !ok {
			return ConnReqResult{}, fmt.Errorf("acsim: connection request: unknown device %q", device)
		}
		if target = d.ConnectionRequest; target == "" {
			return ConnReqResult{}, fmt.Errorf("acsim: connection request: device %q sent no ConnectionRequestURL", device)
		}
	}
	res, err := s.connReq(ctx, target)
	e := Entry{Kind: "connreq", Direction: dirOut, Device: device, HTTPMethod: http.MethodGet, Path: target, Status: res.Status, Summary: res}
	if err != nil {
		e.Errors = append(e.Errors, err.Error())
	}
	s.record(e)
	return res, err
}

func (s *Server) connReq(ctx context.Context, target string) (ConnReqResult, error) {
	res := ConnReqResult{URL: target}
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		res.Error = "bad ConnectionRequestURL"
		return res, fmt.Errorf("acsim: connection request: bad url %q", target)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// A fresh client per request: no connection reuse, as a real ACS
	// reaching through NAT would have none.
	client := &http.Client{
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer client.CloseIdleConnections()
	get := func(auth string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return nil, err
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		return resp, nil
	}
	resp, err := get("")
	if err != nil {
		res.Error = err.Error()
		return res, fmt.Errorf("acsim: connection request: %w", err)
	}
	res.Status = resp.StatusCode
	if resp.StatusCode != http.StatusUnauthorized {
		return res, nil
	}
	res.Challenged = true
	chs, err := digest.ParseChallenges(resp.Header.Get("WWW-Authenticate"))
	if err != nil {
		res.Error = "unparsable challenge: " + err.Error()
		return res, nil
	}
	ch, ok := digest.SelectDigest(chs)
	if !ok {
		res.Error = "the CPE offered no usable Digest challenge"
		return res, nil
	}
	if s.cfg.ConnReqUsername == "" {
		res.Error = "no connection-request credentials configured"
		return res, nil
	}
	ca, err := digest.NewClientAuth(ch, s.cfg.ConnReqUsername, s.cfg.ConnReqPassword, nil)
	if err != nil {
		res.Error = err.Error()
		return res, nil
	}
	auth, err := ca.Authorize(http.MethodGet, u.RequestURI())
	if err != nil {
		res.Error = err.Error()
		return res, nil
	}
	resp, err = get(auth)
	if err != nil {
		res.Error = err.Error()
		return res, fmt.Errorf("acsim: connection request: %w", err)
	}
	res.Status = resp.StatusCode
	return res, nil
}
