package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// jobAnnotation is `cla job annotation get <job> <n> [-o FILE]`: it writes a
// file annotation's bytes to FILE, to stdout with -o -, or, by default, to
// a file named as the annotation in the current directory (never over an
// existing file).
func jobAnnotation(ctx context.Context, e *env, args []string) int {
	var cf clientFlags
	var out string
	fs := newFlags(e, "job annotation", help{usage: "cla job annotation get <job> <n> [-o FILE] [flags]",
		about: "Downloads file annotation <n> of a job (numbered from 1, as 'cla job show' lists them):\n" +
			"a file attached through the API, the web monitor, the CLI, or shared in the job's Slack channel.\n" +
			"Without -o it is saved under its own name in the current directory, never over an existing file;\n" +
			"-o - writes it to stdout.",
		examples: "  cla job annotation get qa-1234 3\n  cla job annotation get qa-1234 3 -o disk.png\n  cla job annotation get qa-1234 3 -o - | less"})
	cf.register(fs, e)
	fs.StringVar(&out, "o", "", "write to `FILE` (- for stdout)")
	pos, code, ok := parse(e, fs, args, 3)
	if !ok {
		return code
	}
	if pos[0] != "get" {
		usageError(e, fs, fs.Usage, fmt.Sprintf("unknown action %q (want get)", pos[0]))
		return exitError
	}
	n, err := strconv.Atoi(pos[2])
	if err != nil || n < 1 {
		usageError(e, fs, fs.Usage, fmt.Sprintf("the annotation number must be a whole number from 1, not %q", pos[2]))
		return exitError
	}
	cl, err := cf.client(e)
	if err != nil {
		e.errorf("job annotation: %v", err)
		return exitError
	}
	content, err := cl.GetAnnotationContent(ctx, pos[1], n)
	if err != nil {
		return cf.fail(e, fmt.Sprintf("get annotation %d of %s", n, pos[1]), err)
	}
	defer content.Body.Close()
	if out == "-" {
		if _, err := io.Copy(e.stdout, content.Body); err != nil {
			e.errorf("job annotation: %v", err)
			return exitError
		}
		return exitOK
	}
	path, err := saveAnnotation(out, content.Name, n, content.Body)
	if err != nil {
		e.errorf("job annotation: %v", err)
		return exitError
	}
	cf.show(e, map[string]string{"jobId": pos[1], "annotation": pos[2], "path": path, "contentType": content.ContentType},
		func(w io.Writer) { fmt.Fprintf(w, "saved annotation %d of %s to %s\n", n, pos[1], path) })
	return exitOK
}

// saveAnnotation writes body to out, or to a new file named name (the base
// name only) when out is empty.
func saveAnnotation(out, name string, n int, body io.Reader) (string, error) {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if out == "" {
		out = filepath.Base(name)
		if out == "." || out == "/" || out == "" {
			out = fmt.Sprintf("annotation-%d", n)
		}
		flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	}
	f, err := os.OpenFile(out, flags, 0o644)
	if err != nil {
		return "", fmt.Errorf("save: %w (choose another name with -o)", err)
	}
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		return "", fmt.Errorf("save %s: %w", out, err)
	}
	return out, f.Close()
}
