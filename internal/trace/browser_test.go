//go:build unix

package trace_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// chromiumPath finds Debian's chromium; the test fails (never skips) without it, because the CI
// runs scripts/test.sh, which installs it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatal("chromium is not installed (looked for /usr/bin/chromium and chromium on PATH): " +
		"scripts/test.sh installs it with fonts-wqy-microhei (apt-get install chromium fonts-wqy-microhei); the CI runs that script")
	return ""
}

// runChromium runs headless Chromium with a fresh profile and returns its standard output. It runs
// in a process group of its own, which is killed afterwards so that no helper process outlives it.
func runChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-crash-reporter", "--disable-breakpad",
		"--user-data-dir=" + t.TempDir(), "--window-size=412,1400"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // leftovers of this run only
	}
	if ctx.Err() != nil {
		t.Fatalf("chromium %v did not finish within 60 s; stderr:\n%s", args, tail(stderr.String(), 2000))
	}
	if err != nil {
		t.Fatalf("chromium %v: %v; stderr:\n%s", args, err, tail(stderr.String(), 2000))
	}
	return stdout.Bytes()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// repoRoot is the directory of go.mod above the test's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// countColour counts pixels of exactly the colour r, g, b.
func countColour(img image.Image, r, g, b uint8) int {
	n := 0
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if uint8(cr>>8) == r && uint8(cg>>8) == g && uint8(cb>>8) == b {
				n++
			}
		}
	}
	return n
}

// The scan page of a sold code as a phone browser renders it, in Chinese and in English. The
// screenshots are kept in artifacts/scan-{zh,en}.png for people to look at.
func TestScanPageInBrowser(t *testing.T) {
	bin := chromiumPath(t)
	e := newEnv(t)
	sum := loadDemo(t, e.a)
	srv := httptest.NewServer(e.a.Router)
	defer srv.Close()
	artifacts := filepath.Join(repoRoot(t), "artifacts")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		lang    string
		htmlTag string
		texts   []string
	}{
		{"zh", `<html lang="zh-CN">`, []string{"十八洞猕猴桃", "正品：本商品已由帮扶单位采购", "十八洞村", "带动农户"}},
		{"en", `<html lang="en">`, []string{"十八洞猕猴桃", "Genuine: this item was bought by an assisting unit", "Households benefited"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			url := srv.URL + "/t/" + sum.ScanCode + "?lang=" + tc.lang

			dom := string(runChromium(t, bin, "--dump-dom", url))
			for _, want := range append([]string{tc.htmlTag, `id="verdict"`, `data-verdict="genuine"`}, tc.texts...) {
				if !strings.Contains(dom, want) {
					t.Errorf("rendered DOM lacks %q:\n%s", want, tail(dom, 3000))
				}
			}
			if strings.Contains(dom, `data-verdict="unknown"`) {
				t.Error("rendered DOM shows the unknown verdict")
			}

			shot := filepath.Join(artifacts, "scan-"+tc.lang+".png")
			_ = os.Remove(shot)
			runChromium(t, bin, "--screenshot="+shot, url)
			raw, err := os.ReadFile(shot)
			if err != nil {
				t.Fatalf("no screenshot: %v", err)
			}
			img, err := png.Decode(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("screenshot %s is not a PNG: %v", shot, err)
			}
			if b := img.Bounds(); b.Dx() != 412 || b.Dy() != 1400 {
				t.Errorf("screenshot is %dx%d, want 412x1400", b.Dx(), b.Dy())
			}
			// The page's styles applied: the green verdict box (#e3f4e1) and the page background (#f4f1ea).
			if n := countColour(img, 0xe3, 0xf4, 0xe1); n < 1000 {
				t.Errorf("screenshot has %d pixels of the genuine verdict's green, want a visible box", n)
			}
			if n := countColour(img, 0xf4, 0xf1, 0xea); n < 10000 {
				t.Errorf("screenshot has %d pixels of the page background: styles not applied?", n)
			}
			t.Logf("screenshot kept at %s", shot)
		})
	}
}
