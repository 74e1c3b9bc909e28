package render

import (
	"bytes"
	"os"
	"strconv"
)

// userNames maps uids to names from the passwd file, as ps shows them:
// a name longer than the column ends in '+', an unknown uid is a number.
type userNames struct {
	names map[uint32]string
}

func newUserNames(passwd string) *userNames {
	u := &userNames{names: map[uint32]string{}}
	b, err := os.ReadFile(passwd)
	if err != nil {
		return u
	}
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		// name:password:uid:...
		f := bytes.SplitN(line, []byte{':'}, 4)
		if len(f) < 4 {
			continue
		}
		uid, err := strconv.ParseUint(string(f[2]), 10, 32)
		if err != nil {
			continue
		}
		if _, dup := u.names[uint32(uid)]; !dup {
			u.names[uint32(uid)] = string(f[0])
		}
	}
	return u
}

func (u *userNames) name(uid uint32) string {
	n, ok := u.names[uid]
	if !ok {
		return strconv.FormatUint(uint64(uid), 10)
	}
	if len(n) > 8 {
		return n[:7] + "+"
	}
	return n
}
