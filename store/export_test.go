package store

// ForgetCaches makes the next reads of s go to the database, as after a
// change of everything, so benchmarks can measure them cold.
func ForgetCaches(s *Store) { s.applyBoardChanges([]boardChange{{all: true}}) }
