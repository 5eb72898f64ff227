// The single-page app, built by `make ui` (npm: sinks/dashboard/ui) into
// ui/dist and compiled into the binary, so the dashboard needs no files at
// run time. A fresh clone has only ui/dist/.keep there: it compiles and
// serves the API, and AssetsBuilt reports false so the server can say how
// to build the page.

package dashboard

import (
	"embed"
	"io/fs"
)

//go:embed all:ui/dist
var dist embed.FS

// Assets is the built app, rooted at ui/dist: index.html and assets/app.js,
// assets/app.css.
func Assets() fs.FS {
	sub, err := fs.Sub(dist, "ui/dist")
	if err != nil {
		panic("BUG: embedded ui/dist missing: " + err.Error()) // fs.Sub fails only on an invalid path
	}
	return sub
}

// AssetsBuilt reports whether the app was built before the binary: whether
// index.html is embedded.
func AssetsBuilt() bool {
	_, err := fs.Stat(Assets(), "index.html")
	return err == nil
}
