module flashsale.dev/hack/images/pause

go 1.22
