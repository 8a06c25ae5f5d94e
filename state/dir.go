package state

import (
	"errors"
	"path/filepath"
)

// DefaultDir is where run history and the lock live when no state_dir is configured:
// $XDG_STATE_HOME/ycm-onboard, else $HOME/.local/state/ycm-onboard.
// Relative values of XDG_STATE_HOME are ignored, as the XDG specification says.
func DefaultDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "ycm-onboard"), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", errors.New("no state directory: neither XDG_STATE_HOME nor HOME is set; set state_dir in the configuration file")
	}
	return filepath.Join(home, ".local", "state", "ycm-onboard"), nil
}
