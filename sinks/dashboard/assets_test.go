package dashboard

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestAssets checks the embedded app as built by `make ui`: every file
// index.html refers to is embedded, and the page needs nothing the CSP
// (default-src 'self') forbids. Without a build only ui/dist/.keep is there.
func TestAssets(t *testing.T) {
	a := Assets()
	html, err := fs.ReadFile(a, "index.html")
	if !AssetsBuilt() {
		if err == nil {
			t.Fatal("AssetsBuilt() is false but index.html is embedded")
		}
		if _, err := fs.Stat(a, ".keep"); err != nil {
			t.Fatalf("ui/dist/.keep is not embedded (the embed must use all:): %v", err)
		}
		t.Skip("the UI is not built (run `make ui`): only the unbuilt case was checked")
	}
	if err != nil {
		t.Fatalf("AssetsBuilt() is true but index.html cannot be read: %v", err)
	}
	page := string(html)
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 2 {
		t.Fatalf("index.html refers to %d files, want the script and the stylesheet at least", len(refs))
	}
	for _, r := range refs {
		ref := r[1]
		if strings.HasPrefix(ref, "#") {
			continue // a hash route
		}
		if strings.Contains(ref, "//") || strings.HasPrefix(ref, "/") {
			t.Errorf("index.html refers to %q: want a path relative to the page, on the same server", ref)
			continue
		}
		if _, err := fs.Stat(a, ref); err != nil {
			t.Errorf("index.html refers to %q, which is not embedded: %v", ref, err)
		}
	}
	// The CSP allows no inline code or style.
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`),
		regexp.MustCompile(`<style`),
		regexp.MustCompile(`\sstyle=`),
		regexp.MustCompile(`\son[a-z]+=`),
	} {
		if m := bad.FindString(page); m != "" {
			t.Errorf("index.html has inline code or style, which the CSP blocks: %q", m)
		}
	}
}
