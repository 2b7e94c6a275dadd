package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// MaxCategoryNameLen caps a category name, in characters.
const MaxCategoryNameLen = 50

// Category groups posts on the board. Admins manage them.
type Category struct {
	ID   int64
	Name string
}

var errCategoryTaken = Invalid("name", "category with this name already exists.")

func cleanCategoryName(name string) (string, error) {
	name = strings.TrimSpace(name)
	v := new(ValidationError)
	if name == "" {
		v.Add("name", "This field may not be blank.")
	} else {
		checkText(v, "name", name, MaxCategoryNameLen)
		if strings.ContainsAny(name, "\n\t") && !v.Has("name") {
			v.Add("name", "This field may not contain line breaks or tabs.")
		}
	}
	return name, v.Err()
}

// categoryList is the categories as read while categoryGen was gen.
type categoryList struct {
	gen  uint64
	list []Category
}

// Categories lists every category, by id. Every page of the board shows
// them and they seldom change, so the list is kept until one does.
func (s *Store) Categories(ctx context.Context) ([]Category, error) {
	gen := s.categoryGen.Load()
	if c := s.categories.Load(); c != nil && c.gen == gen {
		return slices.Clone(c.list), nil
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, name FROM categories ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	defer rows.Close()
	out := []Category{}
	for rows.Next() {
		var c Category
		if err := rows.Scan(&c.ID, &c.Name); err != nil {
			return nil, fmt.Errorf("categories: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	// Read under gen: if a change committed meanwhile, gen is old now and
	// the next reader reads again.
	s.categories.Store(&categoryList{gen, slices.Clone(out)})
	return out, nil
}

// categoriesChanged drops the kept list once a change has committed.
func (s *Store) categoriesChanged() { s.categoryGen.Add(1) }

// CreateCategory adds a category; names are unique ignoring case.
func (s *Store) CreateCategory(ctx context.Context, name string) (*Category, error) {
	name, err := cleanCategoryName(name)
	if err != nil {
		return nil, err
	}
	c := &Category{Name: name}
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO categories (name, key) VALUES (?, ?)`, name, strings.ToLower(name))
		if isUniqueViolation(err) {
			return errCategoryTaken
		}
		if err != nil {
			return fmt.Errorf("insert category: %w", err)
		}
		c.ID, _ = res.LastInsertId()
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.categoriesChanged()
	return c, nil
}

// RenameCategory gives category id a new, unique name.
func (s *Store) RenameCategory(ctx context.Context, id int64, name string) (*Category, error) {
	name, err := cleanCategoryName(name)
	if err != nil {
		return nil, err
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE categories SET name = ?, key = ? WHERE id = ?`, name, strings.ToLower(name), id)
		if isUniqueViolation(err) {
			return errCategoryTaken
		}
		if err != nil {
			return fmt.Errorf("rename category: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.categoriesChanged()
	return &Category{ID: id, Name: name}, nil
}

// DeleteCategory deletes category id; its posts become uncategorized.
func (s *Store) DeleteCategory(ctx context.Context, id int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM categories WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete category: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		// Its posts lose their category: rare enough to start over.
		s.boardChanged(boardChange{all: true})
		return nil
	})
	if err != nil {
		return err
	}
	s.categoriesChanged()
	return nil
}
