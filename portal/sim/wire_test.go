package sim

// The wire objects exactly as docs/wire.md shows them; tests decode strictly
// into these, so an extra or misspelt field fails.

type wireColleague struct {
	ColleaguesID            int64   `json:"colleaguesId"`
	YeastarID               string  `json:"yeastarId"`
	FirstName               string  `json:"firstName"`
	LastName                string  `json:"lastName"`
	UserStatus              string  `json:"userStatus"`
	TwoFactorAuthentication int     `json:"twoFactorAuthentication"`
	ResourceIDs             []int64 `json:"resourceIds"`
	IsRmUser                int     `json:"isRmUser"`
	Remark                  string  `json:"remark"`
	OwnerID                 int64   `json:"ownerId"`
	CreateTime              int64   `json:"createTime"`
}

type wirePage[T any] struct {
	Count     int `json:"count"`
	PageNo    int `json:"pageNo"`
	PageSize  int `json:"pageSize"`
	Results   []T `json:"results"`
	Total     int `json:"total"`
	TotalPage int `json:"totalPage"`
}

type wirePBX struct {
	CloudPbxID             int64  `json:"cloudPbxId"`
	SN                     string `json:"sn"`
	Name                   string `json:"name"`
	Plan                   string `json:"plan"`
	ExtensionCapacity      int    `json:"extensionCapacity"`
	ConcurrentCallCapacity int    `json:"concurrentCallCapacity"`
	RecordingStatus        string `json:"recordingStatus"`
	RecordingCapacity      int    `json:"recordingCapacity"`
	TranscriptionCapacity  int    `json:"transcriptionCapacity,omitempty"`
	PbxStatus              string `json:"pbxStatus"`
	ActivationStatus       string `json:"activationStatus"`
	URL                    string `json:"url"`
	Region                 string `json:"region"`
	ExtensionUsed          int    `json:"extensionUsed"`
}

type wirePBXPage struct {
	PageSize   int       `json:"pageSize"`
	PageNumber int       `json:"pageNumber"`
	Total      int       `json:"total"`
	List       []wirePBX `json:"list"`
}

type wireFieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}
