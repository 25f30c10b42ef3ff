// Command treecheck keeps generated things out of git and out of the source
// tree.
//
//	treecheck             refuse tracked binaries, databases and files over 1 MB (make lint)
//	treecheck -untracked  list files git does not track, ignored ones included, outside
//	                      the build folders (make test compares the list before and after
//	                      the tests: a test that writes into the source tree fails it)
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// maxBytes is the largest file git may hold: anything bigger is an
// artifact or data, not source.
const maxBytes = 1 << 20

// buildFolders hold what the Makefile and npm make; files under them are
// expected to appear while tests run.
var buildFolders = []string{".cache/", "bin/", "node_modules/", "webapp/dist/", "webapp/test-results/", "orchestration/conformance/node_modules/", "infrastructure/cdk.out/"}

func main() {
	untracked := flag.Bool("untracked", false, "list untracked and ignored files outside the build folders")
	flag.Parse()
	var err error
	if *untracked {
		err = listUntracked(os.Stdout)
	} else {
		err = lint(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "treecheck:", err)
		os.Exit(1)
	}
}

func git(args ...string) ([]string, error) {
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, ee.Stderr)
		}
		return nil, fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	var files []string
	for f := range strings.SplitSeq(string(out), "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	return files, nil
}

// lint reports every tracked file that should not be in git.
func lint(out io.Writer) error {
	files, err := git("ls-files", "-z")
	if err != nil {
		return err
	}
	var bad int
	for _, name := range files {
		info, err := os.Lstat(name)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the work tree, not yet committed
		}
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			continue
		}
		head, err := readHead(name)
		if err != nil {
			return err
		}
		if why := refuse(name, info.Size(), head); why != "" {
			fmt.Fprintf(out, "%s: %s\n", name, why)
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d tracked files do not belong in git: remove them (git rm --cached) and ignore them", bad)
	}
	return nil
}

func readHead(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 16)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return head[:n], nil
}

// magic numbers of what must not be tracked.
var magic = []struct {
	prefix []byte
	what   string
}{
	{[]byte("SQLite format 3\x00"), "an SQLite database"},
	{[]byte("\x7fELF"), "an executable (ELF)"},
	{[]byte{0xcf, 0xfa, 0xed, 0xfe}, "an executable (Mach-O)"},
	{[]byte{0xce, 0xfa, 0xed, 0xfe}, "an executable (Mach-O)"},
	{[]byte{0xca, 0xfe, 0xba, 0xbe}, "an executable (Mach-O universal)"},
	{[]byte("MZ"), "an executable (Windows)"},
	{[]byte("!<arch>\n"), "an object archive"},
}

var dataExtensions = []string{".db", ".db-wal", ".db-shm", ".sqlite", ".sqlite3", ".exe", ".dll", ".so", ".dylib", ".a", ".o", ".test", ".prof"}

// refuse says why a tracked file does not belong in git, or "".
func refuse(name string, size int64, head []byte) string {
	for _, m := range magic {
		if bytes.HasPrefix(head, m.prefix) {
			return m.what
		}
	}
	if slices.Contains(dataExtensions, strings.ToLower(filepath.Ext(name))) {
		return "a database or build output, by its name"
	}
	if size > maxBytes {
		return fmt.Sprintf("%d bytes, over the 1 MB limit for a tracked file", size)
	}
	return ""
}

// listUntracked prints the untracked and ignored files outside the build
// folders, one per line, sorted.
func listUntracked(out io.Writer) error {
	files, err := git("ls-files", "-z", "--others")
	if err != nil {
		return err
	}
	var keep []string
	for _, f := range files {
		if !underBuildFolder(f) {
			keep = append(keep, f)
		}
	}
	slices.Sort(keep)
	for _, f := range keep {
		fmt.Fprintln(out, f)
	}
	return nil
}

func underBuildFolder(path string) bool {
	for _, dir := range buildFolders {
		if strings.HasPrefix(path, dir) || strings.Contains(path, "/"+dir) {
			return true
		}
	}
	return false
}
