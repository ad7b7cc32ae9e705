// The Data module; see ARCHITECTURE.md.
