//! The OpenAPI 3.1 document of the JSON API, served at `/api/v1/openapi.json`. Kept by hand next
//! to the routes; a test checks that every documented operation is routed.

use serde_json::{Value, json};

use crate::config::ServerConfig;

/// Every documented operation: method, path (relative to `/api/v1`), summary, whether it needs
/// a bearer token, request schema, success status and response schema.
pub(crate) const OPERATIONS: &[(&str, &str, &str, bool, Option<&str>, u16, &str)] = &[
    ("post", "/users", "Create an account", false, Some("SignUp"), 201, "User"),
    ("post", "/session", "Exchange e-mail and password for a bearer token", false, Some("Credentials"), 201, "Session"),
    ("get", "/me", "The calling user and their organisation roles", true, None, 200, "Me"),
    ("get", "/tokens", "List your API tokens", true, None, 200, "TokenList"),
    ("post", "/tokens", "Create an API token (the secret is returned once)", true, Some("TokenInput"), 201, "NewToken"),
    ("delete", "/tokens/{id}", "Revoke an API token", true, None, 204, ""),
    ("get", "/organisations", "List issuer organisations", false, None, 200, "OrganisationList"),
    ("post", "/organisations", "Create an issuer organisation (you become its owner)", true, Some("OrganisationInput"), 201, "Organisation"),
    ("get", "/organisations/{id}", "An issuer organisation, with its DIDs", false, None, 200, "Organisation"),
    ("put", "/organisations/{id}", "Replace an organisation's profile (owners)", true, Some("OrganisationInput"), 200, "Organisation"),
    ("post", "/organisations/{id}/image", "Upload the organisation's image (multipart field `file`, PNG or SVG)", true, Some("Upload"), 200, "Organisation"),
    ("get", "/organisations/{id}/members", "List members (members only)", true, None, 200, "MemberList"),
    ("post", "/organisations/{id}/members", "Add a member by e-mail (owners)", true, Some("MemberInput"), 201, "Member"),
    ("put", "/organisations/{id}/members/{user_id}", "Change a member's role (owners)", true, Some("RoleInput"), 204, ""),
    ("delete", "/organisations/{id}/members/{user_id}", "Remove a member (owners; the last owner stays)", true, None, 204, ""),
    ("get", "/organisations/{id}/achievements", "Every achievement of the organisation, drafts included (members only)", true, None, 200, "AchievementList"),
    (
        "post",
        "/organisations/{id}/achievements",
        "Create a draft micro-badge, or a micro-credential with exactly three levels (owners, staff)",
        true,
        Some("NewAchievement"),
        201,
        "Achievement",
    ),
    ("get", "/achievements", "Search the published catalog", false, None, 200, "AchievementPage"),
    ("get", "/achievements/{id}", "One achievement (drafts for members only)", false, None, 200, "Achievement"),
    (
        "put",
        "/achievements/{id}",
        "Edit an achievement: in place while a draft, as a new version once published",
        true,
        Some("AchievementContent"),
        200,
        "Achievement",
    ),
    ("get", "/achievements/{id}/versions/{version}", "A given version of an achievement", false, None, 200, "Achievement"),
    ("post", "/achievements/{id}/publish", "Publish (a micro-credential publishes its levels too)", true, None, 200, "Achievement"),
    ("post", "/achievements/{id}/retire", "Retire from the catalog (awards stay valid)", true, None, 200, "Achievement"),
    (
        "post",
        "/achievements/{id}/image",
        "Upload the badge image (multipart field `file`, PNG or SVG, at most 2 MiB)",
        true,
        Some("Upload"),
        200,
        "Achievement",
    ),
];

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn string() -> Value {
    json!({"type": "string"})
}

fn nullable_string() -> Value {
    json!({"type": ["string", "null"]})
}

fn content_properties() -> Value {
    json!({
        "name": {"type": "string", "maxLength": 120},
        "description": {"type": "string", "maxLength": 4000},
        "criteria": {"type": "string", "description": "Criteria narrative in Markdown"},
        "rubric": {"oneOf": [schema_ref("RubricInput"), {"type": "null"}]},
        "alignments": {"type": "array", "maxItems": 30, "items": schema_ref("Alignment")},
        "tags": {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 40}},
        "language": {"type": "string", "description": "BCP 47 tag, default en"},
        "effort_hours": {"type": ["number", "null"]},
        "fee": {"oneOf": [{"type": "null"}, {"type": "object", "required": ["amount", "currency"], "properties": {"amount": {"type": ["string", "number"], "examples": ["49.00"]}, "currency": {"type": "string", "pattern": "^[A-Za-z]{3}$"}}}]},
        "validity_months": {"type": ["integer", "null"], "minimum": 1, "maximum": 600},
    })
}

fn schemas() -> Value {
    let mut new_achievement = content_properties();
    new_achievement["kind"] = json!({"enum": ["micro-badge", "micro-credential"]});
    new_achievement["levels"] =
        json!({"type": "array", "description": "Exactly three for a micro-credential, in order", "items": schema_ref("AchievementContent")});
    json!({
        "Problem": {"type": "object", "description": "RFC 9457 problem details", "properties": {
            "type": string(), "title": string(), "status": {"type": "integer"}, "detail": string(), "instance": string(), "request_id": string(),
            "errors": {"type": "array", "items": {"type": "object", "properties": {"pointer": string(), "detail": string()}}}}},
        "SignUp": {"type": "object", "required": ["name", "email", "password"], "properties": {"name": string(), "email": string(), "password": {"type": "string", "minLength": 10}}},
        "Credentials": {"type": "object", "required": ["email", "password"], "properties": {"email": string(), "password": string()}},
        "User": {"type": "object", "properties": {"id": string(), "name": string(), "email": string()}},
        "Session": {"type": "object", "properties": {"token": {"type": "string", "description": "Send as Authorization: Bearer <token>"}, "token_id": string(), "user": schema_ref("User")}},
        "Me": {"type": "object", "properties": {"id": string(), "name": string(), "email": string(), "memberships": {"type": "array", "items": {"type": "object", "properties": {"organisation_id": string(), "role": {"enum": ["owner", "staff", "assessor"]}}}}}},
        "TokenInput": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "maxLength": 80}}},
        "Token": {"type": "object", "properties": {"id": string(), "name": string(), "prefix": string(), "created_at": string(), "last_used_at": nullable_string(), "revoked_at": nullable_string()}},
        "NewToken": {"allOf": [schema_ref("Token"), {"type": "object", "properties": {"token": string()}}]},
        "TokenList": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("Token")}}},
        "OrganisationInput": {"type": "object", "required": ["name", "url"], "properties": {"name": string(), "url": {"type": "string", "format": "uri"}, "email": nullable_string(), "description": nullable_string()}},
        "Organisation": {"type": "object", "properties": {"id": string(), "name": string(), "url": string(), "email": nullable_string(), "description": string(), "image": string(), "page": string(),
            "did_web": string(), "did_key": string(), "did_document": string(), "public_key_multibase": string(), "created_at": string()}},
        "OrganisationList": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("Organisation")}}},
        "MemberInput": {"type": "object", "required": ["email", "role"], "properties": {"email": string(), "role": {"enum": ["owner", "staff", "assessor"]}}},
        "RoleInput": {"type": "object", "required": ["role"], "properties": {"role": {"enum": ["owner", "staff", "assessor"]}}},
        "Member": {"type": "object", "properties": {"user_id": string(), "name": string(), "email": string(), "role": string()}},
        "MemberList": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("Member")}}},
        "Upload": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}},
        "RubricInput": {"type": "object", "required": ["levels", "criteria"], "properties": {
            "levels": {"type": "array", "minItems": 2, "maxItems": 6, "items": string(), "description": "Level names, lowest first"},
            "criteria": {"type": "array", "minItems": 1, "maxItems": 20, "items": {"type": "object", "required": ["name", "required_level", "descriptors"], "properties": {
                "id": {"type": "string", "description": "Slug; derived from the name when absent"}, "name": string(), "description": string(),
                "required_level": {"type": ["string", "integer"], "description": "Level name or 1-based number"},
                "descriptors": {"type": "array", "items": string(), "description": "One per level"}}}}}},
        "Alignment": {"type": "object", "required": ["target_name", "target_url"], "properties": {
            "target_name": string(), "target_url": {"type": "string", "format": "uri"}, "target_description": nullable_string(), "target_framework": nullable_string(),
            "target_code": nullable_string(), "target_type": {"type": ["string", "null"], "description": "ceasn:Competency, ceterms:Credential, CFItem, CFRubric, CFRubricCriterion, CFRubricCriterionLevel, CTDL or ext:…"}}},
        "AchievementContent": {"type": "object", "additionalProperties": false, "required": ["name", "description", "criteria"], "properties": content_properties()},
        "NewAchievement": {"type": "object", "additionalProperties": false, "required": ["kind", "name", "description", "criteria"], "properties": new_achievement},
        "Achievement": {"type": "object", "properties": {
            "id": string(), "kind": {"enum": ["micro-badge", "micro-credential"]},
            "level": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {"number": {"type": "integer"}, "title": string(), "part_of": string()}}]},
            "name": string(), "description": string(), "criteria": string(),
            "issuer": {"type": "object", "properties": {"id": string(), "name": string()}},
            "levels": {"type": "array", "items": string(), "description": "A micro-credential's three level achievement ids, in order"},
            "fee": {"type": "object", "properties": {"free": {"type": "boolean"}, "amount": string(), "amount_minor": {"type": "integer"}, "currency": string()}},
            "validity_months": {"type": ["integer", "null"]},
            "rubric": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {"levels": {"type": "array", "items": string()}, "criteria": {"type": "array", "items": {"type": "object", "properties": {
                "id": string(), "name": string(), "description": string(), "required_level": string(), "descriptors": {"type": "array", "items": string()}}}}}}]},
            "alignments": {"type": "array", "items": schema_ref("Alignment")}, "tags": {"type": "array", "items": string()}, "language": string(),
            "effort_hours": {"type": ["number", "null"]}, "image": string(), "url": string(), "state": {"enum": ["draft", "published", "retired"]},
            "version": {"type": "integer"}, "created_at": string(), "updated_at": string(), "published_at": nullable_string()}},
        "AchievementList": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("Achievement")}}},
        "AchievementPage": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("Achievement")}, "total": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"}}},
    })
}

fn parameters(path: &str, method: &str) -> Vec<Value> {
    let mut parameters: Vec<Value> = path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    if path == "/achievements" && method == "get" {
        for (name, description) in [
            ("q", "Full-text search"),
            ("issuer", "Organisation id"),
            ("kind", "micro-badge or micro-credential"),
            ("competency", "Alignment code, or part of its name"),
            ("fee", "free or paid"),
            ("limit", "1 to 100, default 20"),
            ("offset", "Default 0"),
        ] {
            parameters.push(json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}}));
        }
    }
    parameters
}

/// The document, with the server's public URL.
pub(crate) fn document(config: &ServerConfig) -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, summary, auth, request, status, response) in OPERATIONS {
        let mut operation = json!({
            "summary": summary,
            "parameters": parameters(path, method),
            "responses": {
                "default": {"description": "An error", "content": {"application/problem+json": {"schema": schema_ref("Problem")}}},
            },
        });
        let success = if response.is_empty() {
            json!({"description": "Done"})
        } else {
            json!({"description": "Success", "content": {"application/json": {"schema": schema_ref(response)}}})
        };
        operation["responses"][status.to_string()] = success;
        if let Some(request) = request {
            let media = if *request == "Upload" { "multipart/form-data" } else { "application/json" };
            operation["requestBody"] = json!({"required": true, "content": {media: {"schema": schema_ref(request)}}});
        }
        if *auth {
            operation["security"] = json!([{"bearer": []}]);
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[*method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Cairn API",
            "version": "1.0.0",
            "description": "Cairn's JSON API: accounts, issuer organisations, and the catalog of micro-badges and micro-credentials. \
                Errors are RFC 9457 problem details (application/problem+json). Authenticate with Authorization: Bearer <token> \
                from POST /session or an API token. Request bodies reject unknown fields.",
        },
        "servers": [{"url": config.url("/api/v1")}],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    })
}
