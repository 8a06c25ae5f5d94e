package main

import (
	"fmt"
	"os"
	"time"

	"github.com/ycm-onboard/ycm-onboard/state"
)

// historyFlags say where the run history lives and how runs take turns.
type historyFlags struct {
	stateDir    string
	lockTimeout time.Duration
	keepReports int
}

// stateDir is where the history lives: --state-dir, else the default.
func (a *app) stateDir(hf historyFlags) (string, error) {
	if hf.stateDir != "" {
		return hf.stateDir, nil
	}
	return state.DefaultDir(a.getenv)
}

// runStateDir is where a run keeps its history: --state-dir, else the default. A run
// on the embedded simulator keeps a throwaway history, so demo runs never mix with a
// real portal's record; cleanup removes it.
func (a *app) runStateDir(hf historyFlags, embedded bool) (dir string, cleanup func(), err error) {
	if embedded && hf.stateDir == "" {
		tmp, err := os.MkdirTemp("", "ycm-onboard-demo-state-")
		if err != nil {
			return "", nil, fmt.Errorf("cannot make a state directory: %w", err)
		}
		return tmp, func() { _ = os.RemoveAll(tmp) }, nil
	}
	if dir, err = a.stateDir(hf); err != nil {
		return "", nil, err
	}
	return dir, func() {}, nil
}
