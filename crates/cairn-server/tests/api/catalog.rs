//! The public catalog over the API.

backend_test!(the_catalog_lists_published_entries_with_levels_in_order, |app| {
    let page = app.get("/api/v1/achievements", None).await;
    assert_eq!(page.status, 200);
    let page = page.json();
    assert_eq!(page["total"], 5, "a micro-credential, three micro-badges and a certificate");
    let items = page["items"].as_array().unwrap();
    let credential = items.iter().find(|i| i["kind"] == "micro-credential").expect("the demo micro-credential");
    assert_eq!(credential["name"], "Data Analysis with SQL");
    assert_eq!(credential["issuer"]["name"], "Northbridge Institute of Technology");
    let levels = credential["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 3);
    for (n, id) in levels.iter().enumerate() {
        let level = app.get(&format!("/api/v1/achievements/{}", id.as_str().unwrap()), None).await.json();
        assert_eq!(level["level"]["number"], n + 1);
        assert_eq!(level["level"]["part_of"], credential["id"]);
        assert_eq!(level["kind"], "micro-badge");
        assert!(level["rubric"]["criteria"].as_array().unwrap().len() >= 3);
    }
    assert_eq!(credential["fee"]["amount"], "120.00");
    assert_eq!(credential["validity_months"], 36);
    let badge = items.iter().find(|i| i["name"] == "Secure Coding Essentials: OWASP Top 10").unwrap();
    assert_eq!(badge["kind"], "micro-badge");
    assert_eq!(badge["levels"], serde_json::json!([]));
    assert_eq!(badge["rubric"]["levels"], serde_json::json!(["Beginning", "Developing", "Proficient", "Exemplary"]));
    assert_eq!(badge["rubric"]["criteria"][0]["required_level"], "Proficient");
    assert_eq!(badge["fee"], serde_json::json!({"free": false, "amount": "49.00", "amount_minor": 4900, "currency": "EUR", "plan": "upfront"}));
    assert_eq!(badge["alignments"][0]["target_type"], "ceasn:Competency");
});

backend_test!(the_catalog_searches_and_filters, |app| {
    let names = |page: serde_json::Value| page["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(names(app.get("/api/v1/achievements?q=owasp", None).await.json()), ["Secure Coding Essentials: OWASP Top 10"]);
    assert_eq!(names(app.get("/api/v1/achievements?kind=micro-credential", None).await.json()), ["Data Analysis with SQL"]);
    assert_eq!(app.get("/api/v1/achievements?fee=free", None).await.json()["total"], 3);
    assert_eq!(names(app.get("/api/v1/achievements?competency=27-3042.00", None).await.json()), ["Writing Clear API Documentation"]);
    let org = app.demo_organisation().await;
    assert_eq!(app.get(&format!("/api/v1/achievements?issuer={org}"), None).await.json()["total"], 5);
    assert_eq!(app.get(&format!("/api/v1/achievements?issuer={}", uuid::Uuid::new_v4()), None).await.json()["total"], 0);
    assert_eq!(app.get("/api/v1/achievements?q=%22%2A%28NEAR", None).await.json()["total"], 0);
    let paged = app.get("/api/v1/achievements?limit=2&offset=2", None).await.json();
    assert_eq!((paged["items"].as_array().unwrap().len(), paged["total"].as_u64()), (2, Some(5)));
});

backend_test!(bad_catalog_queries_are_problems, |app| {
    app.get("/api/v1/achievements?kind=badge", None).await.problem(422, "invalid-input");
    app.get("/api/v1/achievements?issuer=nope", None).await.problem(422, "invalid-input");
    app.get("/api/v1/achievements?fee=cheap", None).await.problem(422, "invalid-input");
    app.get("/api/v1/achievements?limit=0", None).await.problem(422, "invalid-input");
    app.get("/api/v1/achievements?limit=abc", None).await.problem(400, "malformed-request");
    app.get("/api/v1/achievements?unknown=1", None).await.problem(400, "malformed-request");
    app.get(&format!("/api/v1/achievements/{}", uuid::Uuid::new_v4()), None).await.problem(404, "not-found");
    app.get("/api/v1/achievements/not-an-id", None).await.problem(404, "not-found");
});
