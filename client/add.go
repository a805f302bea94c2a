package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"hail/taxii"
)

// AddObjects sends objects to a collection in one envelope (TAXII 2.1 §5.5)
// and returns the status resource the server answers with, which may still
// be pending: see WaitStatus. The objects are sent as they are; the caller
// keeps the envelope below the API root's max_content_length. Returns
// ETOOLARGE if the server finds it too large, EFORBIDDEN if the
// credentials may not write.
func (c *Client) AddObjects(ctx context.Context, collectionID string, objects []json.RawMessage) (taxii.Status, error) {
	if len(objects) == 0 {
		return taxii.Status{}, errors.New("client: no objects to add")
	}
	n := len(`{"objects":[]}`) + len(objects) - 1
	for _, o := range objects {
		n += len(o)
	}
	body := make([]byte, 0, n)
	body = append(body, `{"objects":[`...)
	for i, o := range objects {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, o...)
	}
	body = append(body, "]}"...)
	var st taxii.Status
	r := request{method: http.MethodPost, url: c.endpoint("collections", collectionID, "objects"), body: body}
	err := c.do(ctx, r, func(resp *http.Response) error {
		return json.NewDecoder(resp.Body).Decode(&st)
	})
	return st, err
}

// DefaultPollInterval is WaitStatus's interval when it is given none.
const DefaultPollInterval = time.Second

// WaitStatus reads the status with that id every interval until it is no
// longer pending, and returns it. It returns the last status read with
// ctx's error if ctx ends first.
func (c *Client) WaitStatus(ctx context.Context, statusID string, interval time.Duration) (taxii.Status, error) {
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	for {
		st, err := c.Status(ctx, statusID)
		if err != nil || st.Status != taxii.StatusPending {
			return st, err
		}
		if err := c.sleep(ctx, interval); err != nil {
			return st, err
		}
	}
}
