// Command ycm-onboard onboards colleagues into the Yeastar Partner Portal and resizes
// cloud PBXs in Yeastar Central Management in bulk, from a spreadsheet.
package main

import "os"

func main() {
	os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
