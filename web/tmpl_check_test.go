package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"sync"
)

// Every page any test renders is rendered again by html/template from the
// same templates and data, and must come out byte for byte the same: the
// escaping of package tmpl is html/template's wherever maru's pages put a
// value. TestMain fails the run on any difference, and on any page that
// failed to render (a method missing from templateMethods, say).

var stdPages = sync.OnceValues(func() (map[string]*template.Template, error) {
	funcs := template.FuncMap{}
	for name, fn := range templateFuncs {
		funcs[name] = fn
	}
	base, err := template.New("").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, file := range files {
		name := strings.TrimSuffix(path.Base(file), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		src, err := fs.ReadFile(templateFiles, file)
		if err != nil {
			return nil, err
		}
		if pages[name], err = template.Must(base.Clone()).New(name).Parse(string(src)); err != nil {
			return nil, err
		}
	}
	return pages, nil
})

var renderDiffs struct {
	sync.Mutex
	diffs []string
}

// checkRender is renderCheck for tests (benchmarks measure pages without it).
func checkRender(name string, p *pageData, page []byte, renderErr error) {
	var want bytes.Buffer
	pages, err := stdPages()
	if err == nil {
		err = pages[name].ExecuteTemplate(&want, "layout", p)
	}
	renderDiffs.Lock()
	defer renderDiffs.Unlock()
	switch {
	case renderErr != nil:
		renderDiffs.diffs = append(renderDiffs.diffs, fmt.Sprintf("%s: %v", name, renderErr))
	case err != nil:
		renderDiffs.diffs = append(renderDiffs.diffs, fmt.Sprintf("%s: html/template: %v", name, err))
	case !bytes.Equal(page, want.Bytes()):
		i := 0
		for i < len(page) && i < want.Len() && page[i] == want.Bytes()[i] {
			i++
		}
		from := max(i-80, 0)
		renderDiffs.diffs = append(renderDiffs.diffs, fmt.Sprintf("%s differs at byte %d:\n tmpl:          %q\n html/template: %q",
			name, i, page[from:min(i+80, len(page))], want.Bytes()[from:min(i+80, want.Len())]))
	}
}

// checkFragment is fragmentCheck for tests: a fragment kept between pages
// (a board row's parts) must come out as html/template makes it too, since
// the page check sees it only as the trusted HTML it has become.
func checkFragment(page, name string, data any, out []byte, renderErr error) {
	var want bytes.Buffer
	pages, err := stdPages()
	if err == nil {
		err = pages[page].ExecuteTemplate(&want, name, data)
	}
	renderDiffs.Lock()
	defer renderDiffs.Unlock()
	switch {
	case renderErr != nil:
		renderDiffs.diffs = append(renderDiffs.diffs, fmt.Sprintf("%s of %s: %v", name, page, renderErr))
	case err != nil:
		renderDiffs.diffs = append(renderDiffs.diffs, fmt.Sprintf("%s of %s: html/template: %v", name, page, err))
	case !bytes.Equal(out, want.Bytes()):
		renderDiffs.diffs = append(renderDiffs.diffs, fmt.Sprintf("%s of %s:\n tmpl:          %q\n html/template: %q", name, page, out, want.Bytes()))
	}
}

// renderMismatches reports every page that came out differently.
func renderMismatches() []string {
	renderDiffs.Lock()
	defer renderDiffs.Unlock()
	return renderDiffs.diffs
}
