//! The schema as the migration parity test compares it: each engine's catalog read into one
//! portable shape — per table, its columns (type class and nullability), primary key, indexes and
//! unique constraints (by column list), and foreign keys — and the differences between two shapes,
//! one line each.
//!
//! SQLite is read with `pragma_table_list`, `pragma_table_info`, `pragma_index_list`,
//! `pragma_index_info` and `pragma_foreign_key_list`; PostgreSQL with `information_schema.columns`,
//! `pg_index` and `pg_constraint`. Both through sqlx's `Any` driver, as the store itself runs.
//! `CHECK` constraints and column defaults are not compared.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Connection, Row};
use std::collections::BTreeMap;
use std::fmt;

/// A column type reduced to what both engines agree on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    Text,
    Integer,
    Real,
    Blob,
    Boolean,
    /// PostgreSQL's `tsvector`; SQLite has no column type for it (it uses an FTS5 table).
    FullText,
}

/// SQLite declared types, as the migrations write them (upper-cased, any `(length)` dropped), and
/// their class. A type missing here fails the test, so that a new one is mapped on purpose.
const SQLITE_TYPES: &[(&str, Class)] = &[
    ("TEXT", Class::Text),
    ("VARCHAR", Class::Text),
    ("CHARACTER VARYING", Class::Text),
    ("CHAR", Class::Text),
    ("INTEGER", Class::Integer),
    ("INT", Class::Integer),
    ("BIGINT", Class::Integer),
    ("SMALLINT", Class::Integer),
    ("REAL", Class::Real),
    ("DOUBLE PRECISION", Class::Real),
    ("DOUBLE", Class::Real),
    ("FLOAT", Class::Real),
    ("BLOB", Class::Blob),
    ("BOOLEAN", Class::Boolean),
];

/// PostgreSQL `information_schema.columns.data_type` values and their class. A type missing here
/// fails the test, so that a new one is mapped on purpose.
const POSTGRES_TYPES: &[(&str, Class)] = &[
    ("text", Class::Text),
    ("character varying", Class::Text),
    ("character", Class::Text),
    ("bigint", Class::Integer),
    ("integer", Class::Integer),
    ("smallint", Class::Integer),
    ("double precision", Class::Real),
    ("real", Class::Real),
    ("bytea", Class::Blob),
    ("boolean", Class::Boolean),
    ("tsvector", Class::FullText),
];

fn sqlite_class(table: &str, column: &str, declared: &str) -> Class {
    let upper = declared.to_uppercase();
    let base = upper.split('(').next().unwrap_or_default().trim();
    SQLITE_TYPES
        .iter()
        .find(|(name, _)| *name == base)
        .map(|(_, class)| *class)
        .unwrap_or_else(|| panic!("{table}.{column} has the SQLite type \"{declared}\", which SQLITE_TYPES does not map: add it with its class"))
}

fn postgres_class(table: &str, column: &str, data_type: &str) -> Class {
    POSTGRES_TYPES
        .iter()
        .find(|(name, _)| *name == data_type)
        .map(|(_, class)| *class)
        .unwrap_or_else(|| panic!("{table}.{column} has the PostgreSQL type \"{data_type}\", which POSTGRES_TYPES does not map: add it with its class"))
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub class: Class,
    /// The type as the engine reports it, for messages.
    pub declared: String,
    pub nullable: bool,
}

/// An index or a unique constraint (which both engines back with an index). The primary key's
/// index is not one: it is [`Table::primary_key`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Index {
    /// Indexed columns in order; `(expression)` for an expression.
    pub columns: Vec<String>,
    pub unique: bool,
    /// The name of an index made by `CREATE INDEX`; `None` for one the engine made and named for
    /// a `UNIQUE` constraint (`sqlite_autoindex_…`, `…_key`), whose names differ by design.
    pub name: Option<String>,
    /// The `WHERE` of a partial index, normalised by [`normalise_predicate`].
    pub predicate: Option<String>,
    /// The access method when it is not a B-tree (PostgreSQL's `gin`, …).
    pub method: Option<String>,
}

impl fmt::Display for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.unique { "unique index" } else { "index" };
        match &self.name {
            Some(name) => write!(f, "{kind} {name} ({})", self.columns.join(", "))?,
            None => write!(f, "{kind} of a UNIQUE constraint ({})", self.columns.join(", "))?,
        }
        if let Some(predicate) = &self.predicate {
            write!(f, " where {predicate}")?;
        }
        if let Some(method) = &self.method {
            write!(f, " using {method}")?;
        }
        Ok(())
    }
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub table: String,
    pub references: Vec<String>,
    /// Lower case: `cascade`, `set null`, `set default`, `restrict` or `no action`.
    pub on_delete: String,
    pub on_update: String,
}

impl fmt::Display for ForeignKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "foreign key ({}) references {} ({}) on delete {} on update {}",
            self.columns.join(", "),
            self.table,
            self.references.join(", "),
            self.on_delete,
            self.on_update
        )
    }
}

/// One table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// An SQLite virtual table (FTS5): its columns and shadow tables are not read.
    pub virtual_table: bool,
    pub columns: BTreeMap<String, Column>,
    /// Primary key columns in key order; empty without one.
    pub primary_key: Vec<String>,
    /// Sorted, duplicates kept (two identical indexes are a difference from one).
    pub indexes: Vec<Index>,
    /// Sorted, duplicates kept.
    pub foreign_keys: Vec<ForeignKey>,
}

/// Tables by name, without sqlx's `_sqlx_migrations`.
pub type Schema = BTreeMap<String, Table>;

fn text(row: &AnyRow, column: &str) -> String {
    row.try_get::<String, _>(column).unwrap_or_else(|error| panic!("catalog column {column}: {error}"))
}

fn opt_text(row: &AnyRow, column: &str) -> Option<String> {
    row.try_get::<Option<String>, _>(column).unwrap_or_else(|error| panic!("catalog column {column}: {error}"))
}

fn int(row: &AnyRow, column: &str) -> i64 {
    row.try_get::<i64, _>(column).unwrap_or_else(|error| panic!("catalog column {column}: {error}"))
}

/// Lower case, without whitespace, parentheses, double quotes or PostgreSQL's `::type` casts:
/// `(status <> 'withdrawn'::text)` and `status <> 'withdrawn'` both become `status<>'withdrawn'`.
/// PostgreSQL's `= ANY (ARRAY[…])` is read back as the `IN (…)` it was written as.
pub fn normalise_predicate(raw: &str) -> String {
    let mut predicate = raw.to_lowercase();
    for cast in ["::character varying", "::text", "::bigint", "::integer", "::double precision", "::boolean"] {
        predicate = predicate.replace(cast, "");
    }
    predicate = predicate.replace("= any (array[", " in (").replace("])", ")");
    predicate.chars().filter(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '"')).collect()
}

fn split_columns(list: &str) -> Vec<String> {
    list.split(',').filter(|c| !c.is_empty()).map(str::to_string).collect()
}

fn is_ours(table: &str) -> bool {
    !table.starts_with("_sqlx") && !table.starts_with("sqlite_")
}

fn finish(mut schema: Schema) -> Schema {
    for table in schema.values_mut() {
        table.indexes.sort();
        table.foreign_keys.sort();
    }
    schema
}

async fn connect(url: &str) -> AnyConnection {
    sqlx::any::install_default_drivers();
    AnyConnection::connect(url).await.unwrap_or_else(|error| panic!("open {url} to read its schema: {error}"))
}

/// Reads the schema of the SQLite database at `url`.
pub async fn sqlite(url: &str) -> Schema {
    let mut conn = connect(url).await;
    let mut schema = Schema::new();
    // Shadow tables (an FTS5 table's storage) belong to their virtual table and are not read.
    let tables = sqlx::query("SELECT name, type FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'virtual') ORDER BY name")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    for row in &tables {
        let name = text(row, "name");
        if !is_ours(&name) {
            continue;
        }
        if text(row, "type") == "virtual" {
            schema.insert(name, Table { virtual_table: true, ..Table::default() });
            continue;
        }
        let mut table = Table::default();
        let columns = sqlx::query("SELECT name, type, \"notnull\" AS not_null, pk FROM pragma_table_info($1) ORDER BY cid")
            .bind(&name)
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let mut primary_key: Vec<(i64, String)> = Vec::new();
        for column in &columns {
            let column_name = text(column, "name");
            let declared = text(column, "type");
            if int(column, "pk") > 0 {
                primary_key.push((int(column, "pk"), column_name.clone()));
            }
            let class = sqlite_class(&name, &column_name, &declared);
            table.columns.insert(column_name, Column { class, declared, nullable: int(column, "not_null") == 0 });
        }
        primary_key.sort();
        table.primary_key = primary_key.into_iter().map(|(_, column)| column).collect();
        let indexes = sqlx::query("SELECT name, \"unique\" AS is_unique, origin, partial FROM pragma_index_list($1) ORDER BY name")
            .bind(&name)
            .fetch_all(&mut conn)
            .await
            .unwrap();
        for index in &indexes {
            let index_name = text(index, "name");
            let origin = text(index, "origin");
            if origin == "pk" {
                continue;
            }
            let key = sqlx::query("SELECT name FROM pragma_index_info($1) ORDER BY seqno").bind(&index_name).fetch_all(&mut conn).await.unwrap();
            let predicate = if int(index, "partial") == 1 {
                let sql = sqlx::query("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = $1")
                    .bind(&index_name)
                    .fetch_one(&mut conn)
                    .await
                    .map(|row| text(&row, "sql"))
                    .unwrap();
                let at = sql.to_uppercase().rfind(" WHERE ").unwrap_or_else(|| panic!("partial index {index_name} without WHERE: {sql}"));
                Some(normalise_predicate(&sql[at + " WHERE ".len()..]))
            } else {
                None
            };
            table.indexes.push(Index {
                columns: key.iter().map(|k| opt_text(k, "name").unwrap_or_else(|| "(expression)".into())).collect(),
                unique: int(index, "is_unique") == 1,
                // "c": made by CREATE INDEX; "u": made for a UNIQUE constraint.
                name: (origin == "c").then_some(index_name),
                predicate,
                method: None,
            });
        }
        let keys = sqlx::query(
            "SELECT id, seq, \"table\" AS parent, \"from\" AS child_column, \"to\" AS parent_column, on_update, on_delete \
             FROM pragma_foreign_key_list($1) ORDER BY id, seq",
        )
        .bind(&name)
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let mut by_id: BTreeMap<i64, ForeignKey> = BTreeMap::new();
        for key in &keys {
            let foreign_key = by_id.entry(int(key, "id")).or_insert_with(|| ForeignKey {
                columns: Vec::new(),
                table: text(key, "parent"),
                // A reference without columns names the parent's primary key; filled in below.
                references: Vec::new(),
                on_delete: text(key, "on_delete").to_lowercase(),
                on_update: text(key, "on_update").to_lowercase(),
            });
            foreign_key.columns.push(text(key, "child_column"));
            foreign_key.references.extend(opt_text(key, "parent_column"));
        }
        table.foreign_keys = by_id.into_values().collect();
        schema.insert(name, table);
    }
    let primary_keys: BTreeMap<String, Vec<String>> = schema.iter().map(|(name, table)| (name.clone(), table.primary_key.clone())).collect();
    for table in schema.values_mut() {
        for foreign_key in &mut table.foreign_keys {
            if foreign_key.references.is_empty() {
                foreign_key.references = primary_keys.get(&foreign_key.table).cloned().unwrap_or_default();
            }
        }
    }
    conn.close().await.unwrap();
    finish(schema)
}

/// `pg_constraint.confdeltype` / `confupdtype` in words.
fn postgres_action(code: &str) -> String {
    match code {
        "a" => "no action",
        "r" => "restrict",
        "c" => "cascade",
        "n" => "set null",
        "d" => "set default",
        other => panic!("unknown foreign key action \"{other}\""),
    }
    .to_string()
}

/// Reads the schema of the `public` schema of the PostgreSQL database at `url`.
pub async fn postgres(url: &str) -> Schema {
    let mut conn = connect(url).await;
    let mut schema = Schema::new();
    let columns = sqlx::query(
        "SELECT c.table_name::TEXT AS table_name, c.column_name::TEXT AS column_name, c.data_type::TEXT AS data_type, \
         c.is_nullable::TEXT AS is_nullable FROM information_schema.columns c JOIN information_schema.tables t \
         ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' ORDER BY 1, c.ordinal_position",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for row in &columns {
        let (table, column, data_type) = (text(row, "table_name"), text(row, "column_name"), text(row, "data_type"));
        if !is_ours(&table) {
            continue;
        }
        let class = postgres_class(&table, &column, &data_type);
        let nullable = text(row, "is_nullable") == "YES";
        schema.entry(table).or_default().columns.insert(column, Column { class, declared: data_type, nullable });
    }
    // Column lists in key order, through unnest … WITH ORDINALITY (the Any driver reads no arrays).
    let constraints = sqlx::query(
        "SELECT t.relname::TEXT AS table_name, con.contype::TEXT AS kind, \
         (SELECT string_agg(a.attname::TEXT, ',' ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord) \
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS columns, \
         COALESCE(r.relname::TEXT, '') AS parent, \
         COALESCE((SELECT string_agg(a.attname::TEXT, ',' ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord) \
          JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum), '') AS parent_columns, \
         con.confdeltype::TEXT AS on_delete, con.confupdtype::TEXT AS on_update \
         FROM pg_constraint con JOIN pg_class t ON t.oid = con.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
         LEFT JOIN pg_class r ON r.oid = con.confrelid \
         WHERE n.nspname = 'public' AND con.contype IN ('p', 'f') ORDER BY 1, 2, 3",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for row in &constraints {
        let table_name = text(row, "table_name");
        let Some(table) = schema.get_mut(&table_name) else { continue };
        let columns = split_columns(&text(row, "columns"));
        match text(row, "kind").as_str() {
            "p" => table.primary_key = columns,
            _ => table.foreign_keys.push(ForeignKey {
                columns,
                table: text(row, "parent"),
                references: split_columns(&text(row, "parent_columns")),
                on_delete: postgres_action(&text(row, "on_delete")),
                on_update: postgres_action(&text(row, "on_update")),
            }),
        }
    }
    // An index backing a PRIMARY KEY, UNIQUE or EXCLUDE constraint of its own table is named
    // after the constraint by PostgreSQL; one made by CREATE INDEX keeps its name.
    let indexes = sqlx::query(
        "SELECT t.relname::TEXT AS table_name, i.relname::TEXT AS index_name, ix.indisunique AS is_unique, ix.indisprimary AS is_primary, \
         am.amname::TEXT AS method, pg_get_expr(ix.indpred, ix.indrelid) AS predicate, \
         EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid AND c.conrelid = ix.indrelid AND c.contype IN ('p', 'u', 'x')) \
           AS for_constraint, \
         (SELECT string_agg(COALESCE(a.attname::TEXT, '(expression)'), ',' ORDER BY k.ord) \
          FROM unnest(ix.indkey::INT2[]) WITH ORDINALITY AS k(attnum, ord) \
          LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum AND k.attnum <> 0 \
          WHERE k.ord <= ix.indnkeyatts) AS columns \
         FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_am am ON am.oid = i.relam JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'public' ORDER BY 1, 2",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for row in &indexes {
        let flag = |column: &str| row.try_get::<bool, _>(column).unwrap_or_else(|error| panic!("catalog column {column}: {error}"));
        let Some(table) = schema.get_mut(&text(row, "table_name")) else { continue };
        if flag("is_primary") {
            continue;
        }
        let method = text(row, "method");
        table.indexes.push(Index {
            columns: split_columns(&text(row, "columns")),
            unique: flag("is_unique"),
            name: (!flag("for_constraint")).then(|| text(row, "index_name")),
            predicate: opt_text(row, "predicate").map(|p| normalise_predicate(&p)),
            method: (method != "btree").then_some(method),
        });
    }
    conn.close().await.unwrap();
    finish(schema)
}

/// Every way `postgres` differs from `sqlite`, one line each, in table order.
pub fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    let names: std::collections::BTreeSet<&String> = sqlite.keys().chain(postgres.keys()).collect();
    for name in names {
        let (s, p) = match (sqlite.get(name), postgres.get(name)) {
            (Some(s), Some(p)) => (s, p),
            (Some(s), None) => {
                out.push(format!("{name}: {}table only in sqlite", if s.virtual_table { "virtual " } else { "" }));
                continue;
            }
            (None, Some(_)) => {
                out.push(format!("{name}: table only in postgres"));
                continue;
            }
            (None, None) => unreachable!("the name came from one of them"),
        };
        if s.virtual_table {
            out.push(format!("{name}: virtual table in sqlite, ordinary table in postgres"));
            continue;
        }
        let columns: std::collections::BTreeSet<&String> = s.columns.keys().chain(p.columns.keys()).collect();
        for column in columns {
            match (s.columns.get(column), p.columns.get(column)) {
                (Some(sc), Some(pc)) => {
                    if sc.class != pc.class {
                        out.push(format!("{name}.{column}: type sqlite {} ({:?}), postgres {} ({:?})", sc.declared, sc.class, pc.declared, pc.class));
                    }
                    // SQLite lets a non-INTEGER PRIMARY KEY column hold NULL (a documented legacy quirk,
                    // https://sqlite.org/lang_createtable.html#the_primary_key); PostgreSQL makes every key
                    // column NOT NULL. The store always supplies ids, so the two agree on what is stored.
                    let sqlite_key_quirk = sc.nullable && !pc.nullable && s.primary_key.iter().any(|k| k == column) && p.primary_key == s.primary_key;
                    if sc.nullable != pc.nullable && !sqlite_key_quirk {
                        let says = |nullable: bool| if nullable { "nullable" } else { "not null" };
                        out.push(format!("{name}.{column}: sqlite {}, postgres {}", says(sc.nullable), says(pc.nullable)));
                    }
                }
                (Some(_), None) => out.push(format!("{name}.{column}: column only in sqlite")),
                (None, Some(_)) => out.push(format!("{name}.{column}: column only in postgres")),
                (None, None) => unreachable!("the name came from one of them"),
            }
        }
        if s.primary_key != p.primary_key {
            out.push(format!("{name}: primary key sqlite ({}), postgres ({})", s.primary_key.join(", "), p.primary_key.join(", ")));
        }
        for (item, side) in only_in(&s.indexes, &p.indexes) {
            out.push(format!("{name}: {item} only in {side}"));
        }
        for (item, side) in only_in(&s.foreign_keys, &p.foreign_keys) {
            out.push(format!("{name}: {item} only in {side}"));
        }
    }
    out
}

/// The multiset difference of two sorted lists, each surplus item with the side that has it.
fn only_in<T: Ord + fmt::Display>(sqlite: &[T], postgres: &[T]) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < sqlite.len() || j < postgres.len() {
        match (sqlite.get(i), postgres.get(j)) {
            (Some(s), Some(p)) if s == p => {
                i += 1;
                j += 1;
            }
            (Some(s), Some(p)) if s < p => {
                out.push((s.to_string(), "sqlite"));
                i += 1;
            }
            (Some(_), Some(p)) => {
                out.push((p.to_string(), "postgres"));
                j += 1;
            }
            (Some(s), None) => {
                out.push((s.to_string(), "sqlite"));
                i += 1;
            }
            (None, Some(p)) => {
                out.push((p.to_string(), "postgres"));
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}
