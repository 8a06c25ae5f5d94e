package sim

// The wire objects exactly as docs/wire.md shows them in the documented
// dialect; tests decode strictly into these, so an extra or misspelt field, or
// a number where the guides say String, fails.

type wireColleague struct {
	ColleaguesID            int64   `json:"colleaguesId,string"`
	YeastarID               string  `json:"yeastarId"`
	FirstName               string  `json:"firstName"`
	LastName                string  `json:"lastName"`
	UserStatus              string  `json:"userStatus"`
	TwoFactorAuthentication int     `json:"twoFactorAuthentication,string"`
	ResourceIDs             []int64 `json:"resourceIds"`
	IsRmUser                int     `json:"isRmUser"`
	Remark                  string  `json:"remark"`
	OwnerID                 int64   `json:"ownerId,string"`
	CreateTime              int64   `json:"createTime"`
}

type wirePartner struct {
	PartnerID int64  `json:"partnerId,string"`
	Email     string `json:"email"`
	Company   string `json:"company"`
	UserType  string `json:"userType"`
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
