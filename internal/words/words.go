// Package words says counts in English the way the job's messages need them.
package words

import "strconv"

// Count is "1 error", "2 errors": the noun takes an s unless there is one.
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
