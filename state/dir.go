package state

import (
	"errors"
	"path/filepath"
	"runtime"
)

// DefaultDir is where run history and the lock live when no state_dir is configured:
// $XDG_STATE_HOME/ycm-onboard, else $HOME/.local/state/ycm-onboard; on Windows, where
// HOME is seldom set, %LOCALAPPDATA%\ycm-onboard. Relative values of XDG_STATE_HOME
// are ignored, as the XDG specification says.
func DefaultDir(getenv func(string) string) (string, error) {
	return defaultDir(runtime.GOOS, getenv)
}

func defaultDir(goos string, getenv func(string) string) (string, error) {
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "ycm-onboard"), nil
	}
	if goos == "windows" {
		if d := getenv("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, "ycm-onboard"), nil
		}
		if d := getenv("USERPROFILE"); d != "" {
			return filepath.Join(d, "AppData", "Local", "ycm-onboard"), nil
		}
		return "", errors.New("no state directory: neither LOCALAPPDATA nor USERPROFILE is set; give --state-dir or set state_dir in the configuration file")
	}
	home := getenv("HOME")
	if home == "" {
		return "", errors.New("no state directory: neither XDG_STATE_HOME nor HOME is set; give --state-dir or set state_dir in the configuration file")
	}
	return filepath.Join(home, ".local", "state", "ycm-onboard"), nil
}
