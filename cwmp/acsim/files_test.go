package acsim

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/cwmpd/cwmpd/cwmp/digest"
)

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestFileServer(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "disk.bin"), []byte("from disk"), 0o644)
	s := startServer(t, Config{FilesDir: dir})
	content := bytes.Repeat([]byte("0123456789"), 1000)
	s.AddFile("fw.bin", content)
	url := s.FilesURL() + "/files/fw.bin"

	resp, b, err := get(t, url, map[string]string{"Range": "bytes=100-"})
	if err != nil || resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, content[100:]) {
		t.Fatalf("range: %v %v len %d", err, resp, len(b))
	}
	if _, b, _ := get(t, url, nil); !bytes.Equal(b, content) {
		t.Fatal("full GET differs")
	}
	if _, b, _ := get(t, s.FilesURL()+"/files/disk.bin", nil); string(b) != "from disk" {
		t.Fatalf("files dir: %q", b)
	}
	if resp, _, _ := get(t, s.FilesURL()+"/files/../../etc/passwd", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("path escape: %d", resp.StatusCode)
	}
	st := statsOf(t, s, "fw.bin")
	if st.Requests != 2 || st.RangeRequests != 1 || st.BytesServed != int64(2*len(content)-100) {
		t.Fatalf("stats %+v", st)
	}

	s.SetFileFault("fw.bin", FileFault{NotFound: true})
	if resp, _, _ := get(t, url, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("404 fault: %d", resp.StatusCode)
	}
	s.SetFileFault("fw.bin", FileFault{Corrupt: true})
	if _, b, _ := get(t, url, nil); len(b) != len(content) || bytes.Equal(b, content) {
		t.Fatal("corrupt fault served the right content")
	}
	s.SetFileFault("fw.bin", FileFault{DropAfter: 1234})
	_, b, err = get(t, url, nil)
	if err == nil || len(b) != 1234 {
		t.Fatalf("drop fault: err %v after %d bytes, want an error after 1234", err, len(b))
	}
	// A download resumed with Range after the drop gets the rest.
	s.SetFileFault("fw.bin", FileFault{})
	resp, rest, err := get(t, url, map[string]string{"Range": "bytes=1234-"})
	if err != nil || resp.StatusCode != http.StatusPartialContent || !bytes.Equal(append(b, rest...), content) {
		t.Fatalf("resume: %v", err)
	}
	if st := statsOf(t, s, "fw.bin"); st.BytesServed != int64(2*len(content)-100)+int64(len(content))+1234+int64(len(content)-1234) {
		t.Fatalf("bytes served %d", st.BytesServed)
	}
}

func statsOf(t *testing.T, s *Server, name string) FileStats {
	t.Helper()
	for _, st := range s.FileStats() {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("no stats for %s", name)
	return FileStats{}
}

func TestFileServerAuth(t *testing.T) {
	s := startServer(t, Config{FileAuth: Auth{Mode: AuthDigest, Username: "dl", Password: "dlpass"}})
	s.AddFile("cfg.xml", []byte("<cfg/>"))
	url := s.FilesURL() + "/files/cfg.xml"
	resp, _, err := get(t, url, nil)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no credentials: %v %v", resp, err)
	}
	auth := digestAuthorizer(t, resp, "dl", "dlpass")
	resp, b, err := get(t, url, map[string]string{"Authorization": auth(http.MethodGet, "/files/cfg.xml")})
	if err != nil || resp.StatusCode != http.StatusOK || string(b) != "<cfg/>" {
		t.Fatalf("digest: %v %v %q", resp, err, b)
	}
	bad := digestAuthorizer(t, resp401(t, url), "dl", "nope")
	if resp, _, _ := get(t, url, map[string]string{"Authorization": bad(http.MethodGet, "/files/cfg.xml")}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}

	basic := startServer(t, Config{FileAuth: Auth{Mode: AuthBasic, Username: "dl", Password: "dlpass"}})
	basic.AddFile("a", []byte("A"))
	if resp, _, _ := get(t, basic.FilesURL()+"/files/a", map[string]string{"Authorization": digest.BasicAuthorization("dl", "dlpass")}); resp.StatusCode != http.StatusOK {
		t.Fatalf("basic: %d", resp.StatusCode)
	}
	if resp, _, _ := get(t, basic.FilesURL()+"/files/a", map[string]string{"Authorization": digest.BasicAuthorization("dl", "x")}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("basic wrong: %d", resp.StatusCode)
	}
}

func resp401(t *testing.T, url string) *http.Response {
	resp, _, err := get(t, url, nil)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("want 401: %v %v", resp, err)
	}
	return resp
}

func TestUploadReceive(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, Config{UploadDir: dir, FileAuth: Auth{Mode: AuthBasic, Username: "up", Password: "uppass"}})
	put := func(method, name string, body []byte, ctype string, auth bool) int {
		req, _ := http.NewRequest(method, s.FilesURL()+"/upload/"+name, bytes.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if auth {
			req.SetBasicAuth("up", "uppass")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := put(http.MethodPut, "log.txt", []byte("log"), "", false); st != http.StatusUnauthorized {
		t.Fatalf("unauthenticated upload: %d", st)
	}
	if st := put(http.MethodPut, "log.txt", []byte("line 1\n"), "text/plain", true); st != http.StatusCreated {
		t.Fatalf("PUT: %d", st)
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "cfg.tgz")
	fw.Write([]byte("config bytes"))
	mw.Close()
	if st := put(http.MethodPost, "cfg.tgz", form.Bytes(), mw.FormDataContentType(), true); st != http.StatusCreated {
		t.Fatalf("POST: %d", st)
	}
	if b, ok := s.Upload("log.txt"); !ok || string(b) != "line 1\n" {
		t.Fatalf("PUT content %q", b)
	}
	if b, ok := s.Upload("cfg.tgz"); !ok || string(b) != "config bytes" {
		t.Fatalf("POST content %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "cfg.tgz")); string(b) != "config bytes" {
		t.Fatalf("upload dir content %q", b)
	}
	if ups := s.Uploads(); len(ups) != 2 || ups[1].HTTPMethod != http.MethodPost || ups[0].Size != 7 {
		t.Fatalf("uploads %+v", ups)
	}
	n := 0
	for _, e := range s.Transcript() {
		if e.Kind == "upload" && e.Status == http.StatusCreated {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d uploads in transcript", n)
	}
	if st, b := adminDo(t, "GET", s.AdminURL()+"/uploads/log.txt", ""); st != http.StatusOK || string(b) != "line 1\n" {
		t.Fatalf("admin upload: %d %q", st, b)
	}
}
