package main

import (
	"fmt"
	"os"
)

// refuseExisting refuses to replace a file the user may have worked on, unless forced.
func refuseExisting(path string, force bool) error {
	if force {
		return nil
	}
	if _, err := os.Lstat(path); err == nil {
		return existsErr(path)
	}
	return nil
}

func existsErr(path string) error {
	return exitf(exitUsage, fmt.Sprintf("%s already exists and may hold someone's work: choose another --out, or pass --force to replace it", path))
}
