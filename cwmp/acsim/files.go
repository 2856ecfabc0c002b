package acsim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// maxUpload bounds one received upload; a CPE log or config is far smaller.
const maxUpload = 64 << 20

// FileStats counts what the file server did for one file.
type FileStats struct {
	Name          string `json:"name"`
	Requests      int    `json:"requests"`
	RangeRequests int    `json:"rangeRequests"`
	BytesServed   int64  `json:"bytesServed"`
	LastStatus    int    `json:"lastStatus"`
}

// UploadInfo describes one received upload.
type UploadInfo struct {
	Name       string    `json:"name"`
	HTTPMethod string    `json:"httpMethod"`
	Size       int       `json:"size"`
	SHA256     string    `json:"sha256"`
	Received   time.Time `json:"received"`
}

type upload struct {
	info UploadInfo
	data []byte
}

// AddFile registers an in-memory file under name (served at
// FilesURL()+"/files/"+name); it shadows a file of that name in FilesDir.
func (s *Server) AddFile(name string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[strings.TrimPrefix(name, "/")] = append([]byte(nil), data...)
}

// SetFileFault breaks (or, with the zero FileFault, mends) serving name.
func (s *Server) SetFileFault(name string, f FileFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name = strings.TrimPrefix(name, "/")
	if f == (FileFault{}) {
		delete(s.fileFault, name)
		return
	}
	s.fileFault[name] = f
}

// FileStats returns the counters of every file requested so far, by name.
func (s *Server) FileStats() []FileStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]FileStats, 0, len(s.fileStats))
	for _, st := range s.fileStats {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Uploads lists the uploads received, oldest first.
func (s *Server) Uploads() []UploadInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]UploadInfo, len(s.uploads))
	for i, u := range s.uploads {
		out[i] = u.info
	}
	return out
}

// Upload returns the content of the latest upload named name.
func (s *Server) Upload(name string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.uploads) - 1; i >= 0; i-- {
		if s.uploads[i].info.Name == name {
			return append([]byte(nil), s.uploads[i].data...), true
		}
	}
	return nil, false
}

func (s *Server) serveFiles(w http.ResponseWriter, r *http.Request) {
	e := Entry{Kind: "file", Direction: dirIn, HTTPMethod: r.Method, Path: r.URL.Path}
	if strings.HasPrefix(r.URL.Path, "/upload/") {
		e.Kind = "upload"
	}
	if reason, wrong := s.filesAuth.check(w, r); reason != "" {
		e.Status = http.StatusUnauthorized
		if wrong {
			e.Errors = append(e.Errors, "authentication failed: "+reason)
		} else {
			e.Notes = append(e.Notes, "challenged: "+reason)
		}
		s.record(e)
		return
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/files/") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		s.serveFile(w, r, e)
	case strings.HasPrefix(r.URL.Path, "/upload/") && (r.Method == http.MethodPut || r.Method == http.MethodPost):
		s.receiveUpload(w, r, e)
	default:
		e.Status = http.StatusNotFound
		e.Errors = append(e.Errors, "no such endpoint: GET/HEAD /files/NAME or PUT/POST /upload/NAME")
		s.record(e)
		http.NotFound(w, r)
	}
}

// countingWriter counts body bytes into the file's stats as they are
// handed to the connection (so a client that has read them sees them
// counted) and, when limit > 0, drops the connection once limit bytes have
// gone out.
type countingWriter struct {
	http.ResponseWriter
	s      *Server
	st     *FileStats
	status *int
	n      int64
	limit  int64
}

func (c *countingWriter) WriteHeader(code int) {
	*c.status = code
	c.s.mu.Lock()
	c.st.LastStatus = code
	c.s.mu.Unlock()
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	drop := c.limit > 0 && c.n+int64(len(p)) >= c.limit
	if drop {
		p = p[:c.limit-c.n]
	}
	c.s.mu.Lock()
	c.st.BytesServed += int64(len(p))
	c.s.mu.Unlock()
	k, err := c.ResponseWriter.Write(p)
	c.n += int64(k)
	if drop {
		http.NewResponseController(c.ResponseWriter).Flush()
		panic(http.ErrAbortHandler)
	}
	return k, err
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, e Entry) {
	name := strings.TrimPrefix(r.URL.Path, "/files/")
	status := http.StatusOK
	s.mu.Lock()
	data, inMem := s.files[name]
	fault := s.fileFault[name]
	st := s.fileStats[name]
	if st == nil {
		st = &FileStats{Name: name}
		s.fileStats[name] = st
	}
	st.Requests++
	if r.Header.Get("Range") != "" {
		st.RangeRequests++
	}
	st.LastStatus = status
	s.mu.Unlock()
	cw := &countingWriter{ResponseWriter: w, s: s, st: st, status: &status, limit: fault.DropAfter}
	// Deferred so a dropped connection (a panic) is still recorded.
	defer func() {
		s.mu.Lock()
		st.LastStatus = status
		e.Status = status
		e.Summary = map[string]any{"file": name, "range": r.Header.Get("Range"), "bytes": cw.n}
		if fault != (FileFault{}) {
			e.Notes = append(e.Notes, fmt.Sprintf("file fault %+v", fault))
		}
		s.recordLocked(e)
		s.mu.Unlock()
	}()
	if fault.NotFound {
		status = http.StatusNotFound
		http.NotFound(w, r)
		return
	}
	modTime := time.Time{}
	if !inMem {
		var err error
		data, modTime, err = s.readFilesDir(name)
		if err != nil {
			e.Errors = append(e.Errors, err.Error())
			status = http.StatusNotFound
			http.NotFound(w, r)
			return
		}
	}
	if fault.Corrupt && len(data) > 0 {
		data = append([]byte(nil), data...)
		data[len(data)-1] ^= 0xff
	}
	http.ServeContent(cw, r, name, modTime, bytes.NewReader(data))
}

func (s *Server) readFilesDir(name string) ([]byte, time.Time, error) {
	if s.cfg.FilesDir == "" {
		return nil, time.Time{}, fmt.Errorf("acsim: file %q: not registered", name)
	}
	root, err := os.OpenRoot(s.cfg.FilesDir)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("acsim: files dir: %w", err)
	}
	defer root.Close()
	// os.Root refuses names that escape the directory (.., symlinks out).
	f, err := root.Open(name)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("acsim: file %q: %w", name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		return nil, time.Time{}, fmt.Errorf("acsim: file %q: %w", name, errors.Join(err, fs.ErrNotExist))
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("acsim: file %q: %w", name, err)
	}
	return data, fi.ModTime(), nil
}

func (s *Server) receiveUpload(w http.ResponseWriter, r *http.Request, e Entry) {
	name := strings.TrimPrefix(r.URL.Path, "/upload/")
	fail := func(status int, msg string) {
		e.Status = status
		e.Errors = append(e.Errors, msg)
		s.record(e)
		http.Error(w, msg, status)
	}
	if name == "" || strings.Contains(name, "/") || name == "." || name == ".." {
		fail(http.StatusBadRequest, "upload name must be one path element")
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxUpload+1))
	if err != nil {
		fail(http.StatusBadRequest, "reading upload: "+err.Error())
		return
	}
	if len(data) > maxUpload {
		fail(http.StatusRequestEntityTooLarge, "upload larger than 64 MiB")
		return
	}
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == "multipart/form-data" {
		// An HTML-form style POST: keep the first part's content.
		part, err := multipart.NewReader(bytes.NewReader(data), params["boundary"]).NextPart()
		if err != nil {
			fail(http.StatusBadRequest, "multipart upload: "+err.Error())
			return
		}
		if data, err = io.ReadAll(part); err != nil {
			fail(http.StatusBadRequest, "multipart upload: "+err.Error())
			return
		}
	}
	if s.cfg.UploadDir != "" {
		if err := os.WriteFile(filepath.Join(s.cfg.UploadDir, name), data, 0o644); err != nil {
			fail(http.StatusInternalServerError, "storing upload: "+err.Error())
			return
		}
	}
	sum := sha256.Sum256(data)
	info := UploadInfo{Name: name, HTTPMethod: r.Method, Size: len(data), SHA256: hex.EncodeToString(sum[:]), Received: time.Now().UTC()}
	e.Status = http.StatusCreated
	e.Summary = info
	s.mu.Lock()
	s.uploads = append(s.uploads, &upload{info: info, data: data})
	s.recordLocked(e)
	s.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
}
