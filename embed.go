package main

import (
	"embed"
	"io/fs"
)

//go:embed static
var staticFiles embed.FS

// staticFS is the static/ folder, served under /static/.
func staticFS() fs.FS {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the folder is embedded above: this cannot fail at run time
	}
	return sub
}
