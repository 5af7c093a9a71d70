package cycle

// Capabilities exposes the surface's capability list to the spec test.
func Capabilities() []string { return capabilities }
