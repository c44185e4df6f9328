package workflow

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// WorkflowNames are the file names `cla run` looks for when it is given no
// file, in each of SearchDirs.
var WorkflowNames = []string{"workflow.json", "workflow.yaml", "workflow.yml"}

// SearchDirs are where `cla run` looks, in order, relative to the working
// directory: the directory itself, then .cla/.
var SearchDirs = []string{".", ".cla"}

// Discover finds the workflow file under dir: exactly one of WorkflowNames
// in dir, else exactly one in dir/.cla. None, or several in the same
// place, is an error that lists where it looked.
func Discover(dir string) (string, error) {
	var looked []string
	for _, sub := range SearchDirs {
		var found []string
		for _, name := range WorkflowNames {
			p := filepath.Join(dir, sub, name)
			looked = append(looked, filepath.Join(sub, name))
			if info, err := os.Stat(p); err == nil && !info.IsDir() {
				found = append(found, p)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		default:
			rel := make([]string, len(found))
			for i, f := range found {
				rel[i], _ = filepath.Rel(dir, f)
			}
			return "", fmt.Errorf("several workflow files in %s: %s; name the one to run (cla run FILE)",
				filepath.Join(dir, sub), strings.Join(rel, ", "))
		}
	}
	return "", fmt.Errorf("no workflow file given and none found in %s; looked for %s (or name one: cla run FILE)",
		dir, strings.Join(looked, ", "))
}
