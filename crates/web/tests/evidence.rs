//! Evidence over HTTP, against the real server and its filesystem store (and a real
//! S3-compatible server when s3s-fs is installed; required in CI): uploads with copies
//! without metadata, sealed blobs, blur and the audited reveal, downloads only for the roles
//! allowed, custody events, never a file for a sexual image of a minor, every bad input of
//! SECURITY.md §6.3 refused with a 4xx and nothing left behind, and the signed export.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rempart_app::evidence::export;
use rempart_domain::ids::CaseId;
use rempart_domain::policy::Role;
use rempart_media::testing::{metadata_bytes, phone_jpeg, phone_png};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sha2::Digest;
use support::*;

fn form(fields: &[(&str, &str)], file: Option<(&str, Vec<u8>)>) -> Form {
    let mut f = Form::new();
    for (k, v) in fields {
        f = f.text(k.to_string(), v.to_string());
    }
    if let Some((name, bytes)) = file {
        f = f.part("file", Part::bytes(bytes).file_name(name.to_owned()));
    }
    f
}

async fn upload(t: &TestApp, token: &str, case: &str, f: Form) -> (u16, Value) {
    upload_evidence(t, token, case, f).await
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(b))
}

#[tokio::test]
async fn a_photo_is_kept_sealed_and_shown_without_metadata_with_custody() {
    let t = TestApp::spawn().await;
    let counsellor = t.staff(Role::Counsellor, None).await;
    let supervisor = t.staff(Role::Supervisor, None).await;
    let c = t.token(&counsellor).await;
    let s = t.token(&supervisor).await;
    let case = t.new_case(&c, "preuves").await;
    let item = t
        .post_json(
            &format!("/api/v1/cases/{case}/items"),
            Some(&c),
            json!({"platform": "snapchat", "content_type": "account", "native_id": "@harceleur"}),
        )
        .await;
    assert_eq!(item.status(), 201);
    let item: Value = item.json().await.unwrap();
    let photo = phone_jpeg(1200, 900, 7, 6);
    let (status, v) = upload(
        &t,
        &c,
        &case,
        form(
            &[
                ("kind", "photo"),
                ("description", "capture du message"),
                ("url", "https://www.snapchat.com/add/harceleur"),
                ("items", item["id"].as_str().unwrap()),
            ],
            Some(("IMG_0042.JPG", photo.clone())),
        ),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let e = &v["evidence"];
    assert_eq!(e["number"], 1);
    assert_eq!(e["kind"], "photo");
    assert_eq!(e["source"], "counsellor");
    assert_eq!(e["captured_from"], "console");
    assert_eq!(e["original_name"], "IMG_0042.JPG");
    assert_eq!(e["file_type"], "jpeg");
    assert_eq!(e["sha256"], sha256_hex(&photo));
    assert_eq!(e["size"], photo.len());
    // upright: orientation 6 swaps the sides
    assert_eq!(
        (e["width"].as_i64(), e["height"].as_i64()),
        (Some(900), Some(1200))
    );
    assert_eq!(e["pdq"].as_str().unwrap().len(), 64);
    assert_eq!(e["items"], json!([item["id"]]));
    assert_eq!(
        e["copies"],
        json!(["original", "clean", "display", "blurred"])
    );
    let id = e["id"].as_str().unwrap().to_owned();

    // four blobs on disk, each sealed: not one JPEG marker, not the maker's name
    let blobs = files_under(&t.evidence_dir);
    assert_eq!(blobs.len(), 4, "{blobs:?}");
    for b in &blobs {
        let bytes = std::fs::read(b).unwrap();
        assert!(!bytes.starts_with(b"\xff\xd8"), "{b:?} is not sealed");
        assert!(!bytes.windows(12).any(|w| w == b"RempartPhone"));
    }

    // the display copy: a JPEG without a byte of metadata, never cached, sandboxed
    let r = t
        .get(
            &format!("/api/v1/cases/{case}/evidence/{id}/display"),
            Some(&c),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("inline; filename=\""),
        "{disposition}"
    );
    assert!(!disposition.contains("IMG_0042"));
    let shown = r.bytes().await.unwrap();
    assert_eq!(metadata_bytes(&shown), 0);

    // originals and clean copies: not for a counsellor
    for copy in ["original", "clean"] {
        let r = t
            .get(
                &format!("/api/v1/cases/{case}/evidence/{id}/{copy}"),
                Some(&c),
            )
            .await;
        assert_eq!(r.status(), 404, "{copy}");
    }
    // a supervisor downloads them as attachments; the original is the bytes received
    let r = t
        .get(
            &format!("/api/v1/cases/{case}/evidence/{id}/original"),
            Some(&s),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"")
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), photo.as_slice());
    let r = t
        .get(
            &format!("/api/v1/cases/{case}/evidence/{id}/clean"),
            Some(&s),
        )
        .await;
    assert_eq!(r.status(), 200);
    let clean = r.bytes().await.unwrap();
    assert_eq!(metadata_bytes(&clean), 0);

    // custody: added, viewed (display), downloaded (original, clean) — in that order
    let log = t
        .store
        .custody_log(CaseId::parse(&case).unwrap())
        .await
        .unwrap();
    let seen: Vec<(String, String)> = log
        .iter()
        .map(|r| (r.action.clone(), r.detail.clone()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                "evidence.added".into(),
                "kind=photo source=counsellor file=1".into()
            ),
            ("evidence.viewed".into(), "copy=display".into()),
            ("evidence.downloaded".into(), "copy=original".into()),
            ("evidence.downloaded".into(), "copy=clean".into()),
        ]
    );

    // the same photo again is recognised, by digest and by PDQ
    let (status, v) = upload(
        &t,
        &c,
        &case,
        form(&[("kind", "photo")], Some(("again.jpg", photo.clone()))),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["same_digest"], 1);
    assert_eq!(v["near_pdq"], 1);
    assert_eq!(v["evidence"]["number"], 2);

    // the list, for the roles that read the case
    let r = t
        .get(&format!("/api/v1/cases/{case}/evidence"), Some(&c))
        .await;
    assert_eq!(r.status(), 200);
    let list: Value = r.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    // another team's counsellor sees nothing, as for a case that does not exist
    let outsider = t.staff(Role::Counsellor, Some("ailleurs")).await;
    let o = t.token(&outsider).await;
    let r = t
        .get(&format!("/api/v1/cases/{case}/evidence"), Some(&o))
        .await;
    assert_eq!(r.status(), 404);
    let (status, _) = upload(
        &t,
        &o,
        &case,
        form(&[("kind", "photo")], Some(("x.jpg", photo.clone()))),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_intimate_image_is_blurred_until_an_audited_reveal() {
    let t = TestApp::spawn().await;
    let counsellor = t.staff(Role::Counsellor, None).await;
    let c = t.token(&counsellor).await;
    let case = t.new_case(&c, "intime").await;
    let (status, v) = upload(
        &t,
        &c,
        &case,
        form(
            &[("kind", "photo"), ("intimate", "true")],
            Some(("p.png", phone_png(1000, 800, 3))),
        ),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["evidence"]["intimate"], true);
    let id = v["evidence"]["id"].as_str().unwrap().to_owned();
    let shown = t
        .get(
            &format!("/api/v1/cases/{case}/evidence/{id}/display"),
            Some(&c),
        )
        .await
        .bytes()
        .await
        .unwrap();
    let revealed = t
        .get(
            &format!("/api/v1/cases/{case}/evidence/{id}/revealed"),
            Some(&c),
        )
        .await
        .bytes()
        .await
        .unwrap();
    let blurred = image::load_from_memory(&shown).unwrap();
    let clear = image::load_from_memory(&revealed).unwrap();
    assert!(blurred.width() <= 480, "{}", blurred.width());
    assert_eq!(clear.width(), 1000);
    let log = t
        .store
        .custody_log(CaseId::parse(&case).unwrap())
        .await
        .unwrap();
    let details: Vec<&str> = log.iter().map(|r| r.detail.as_str()).collect();
    assert_eq!(details[1..], ["copy=display", "copy=revealed"]);
}

#[tokio::test]
async fn no_file_is_ever_stored_for_a_sexual_image_of_a_minor() {
    let t = TestApp::spawn().await;
    let counsellor = t.staff(Role::Counsellor, None).await;
    let c = t.token(&counsellor).await;
    let case = t.new_case(&c, "csam").await;
    let photo = phone_jpeg(640, 480, 1, 1);
    // the flag before the file: refused without reading it; after: refused all the same
    let before = form(
        &[("kind", "photo"), ("sexual_image_of_minor", "true")],
        Some(("x.jpg", photo.clone())),
    );
    let after = Form::new()
        .text("kind", "photo")
        .part("file", Part::bytes(photo.clone()).file_name("x.jpg"))
        .text("sexual_image_of_minor", "true");
    let hash_only = form(&[("kind", "hash_only")], Some(("x.jpg", photo.clone())));
    for f in [before, after, hash_only] {
        let (status, v) = upload(&t, &c, &case, f).await;
        assert_eq!(status, 422, "{v}");
        assert_eq!(v["error"], "file_forbidden");
    }
    // the fingerprints computed on the device: accepted, no copy
    let r = t
        .post_json(
            &format!("/api/v1/cases/{case}/evidence/fingerprints"),
            Some(&c),
            json!({
                "sha256": sha256_hex(&photo),
                "md5": "0123456789abcdef0123456789abcdef",
                "pdq": "f".repeat(64),
                "pdq_quality": 90,
                "url": "https://example.org/post/1",
                "description": "image sur un compte",
                "sexual_image_of_minor": true
            }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["evidence"]["kind"], "hash_only");
    assert_eq!(v["evidence"]["copies"], json!([]));
    assert_eq!(v["evidence"]["sexual_image_of_minor"], true);
    assert_eq!(
        files_under(&t.evidence_dir),
        Vec::<std::path::PathBuf>::new()
    );
    let id = v["evidence"]["id"].as_str().unwrap();
    let r = t
        .get(
            &format!("/api/v1/cases/{case}/evidence/{id}/display"),
            Some(&c),
        )
        .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn every_bad_upload_is_refused_and_leaves_nothing() {
    let t = TestApp::spawn_with(|s| s.evidence.max_file_mb = 1).await;
    let counsellor = t.staff(Role::Counsellor, None).await;
    let c = t.token(&counsellor).await;
    let case = t.new_case(&c, "entrées").await;
    let jpeg = phone_jpeg(300, 200, 2, 1);
    let png = phone_png(300, 200, 2);
    let mut gifar = b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!\xf9\x04\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;".to_vec();
    gifar.extend_from_slice(b"PK\x03\x04\x14\0\0\0\0\0payload");
    gifar.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0\0\0\0\0\0\0\0\0\0\0");
    let mut jpeg_html = jpeg.clone();
    jpeg_html.splice(
        2..2,
        b"\xff\xfe\0\x22<html><script>alert(1)</script>"
            .iter()
            .copied(),
    );
    let mut png_zip = png.clone();
    png_zip.extend_from_slice(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
    let pdf_js = b"%PDF-1.7\n1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec();
    let pdf_embedded =
        b"%PDF-1.7\n1 0 obj << /Type /Catalog /Names << /EmbeddedFiles 2 0 R >> >> endobj\n%%EOF\n"
            .to_vec();
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec();
    let svg_xxe = b"<?xml version='1.0'?><!DOCTYPE svg [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><svg>&x;</svg>".to_vec();
    let html = b"<!doctype html><html><body>hi</body></html>".to_vec();
    let mvg = b"push graphic-context\nviewbox 0 0 640 480\nfill 'url(https://127.0.0.1/x.jpg\"|ls \"-la)'\npop graphic-context\n".to_vec();
    let exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec();
    let elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    let zip = b"PK\x03\x04\x14\0\0\0\x08\0".to_vec();
    let docx = b"PK\x03\x04\x14\0\x06\0\x08\0\0\0!\0[Content_Types].xml".to_vec();
    let ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0\0\0".to_vec();
    let gzip = b"\x1f\x8b\x08\0\0\0\0\0\0\x03\x01\0\0\xff\xff\x03\0".to_vec();
    let eicar = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*".to_vec();
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    let mut bomb = b"\x89PNG\r\n\x1a\n".to_vec();
    {
        let mut ihdr = 65_535u32.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&65_535u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        bomb.extend(rempart_media::testing::chunk(b"IHDR", &ihdr));
        bomb.extend(rempart_media::testing::chunk(
            b"IDAT",
            &[0x78, 0x9c, 0x03, 0, 0, 0, 0, 1],
        ));
        bomb.extend(rempart_media::testing::chunk(b"IEND", b""));
    }
    let truncated = png[..png.len() / 2].to_vec();
    let too_big = vec![b'a'; 1_000_001];
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        ("GIFAR polyglot", "photo", gifar, 422, "file_refused"),
        (
            "JPEG+HTML polyglot",
            "photo",
            jpeg_html,
            422,
            "file_refused",
        ),
        (
            "PNG+ZIP polyglot",
            "screenshot",
            png_zip,
            422,
            "file_refused",
        ),
        (
            "PDF with JavaScript",
            "document",
            pdf_js,
            422,
            "file_refused",
        ),
        (
            "PDF with embedded files",
            "document",
            pdf_embedded,
            422,
            "file_refused",
        ),
        ("SVG with a script", "screenshot", svg, 422, "file_refused"),
        (
            "SVG with an external entity",
            "document",
            svg_xxe,
            422,
            "file_refused",
        ),
        ("HTML named .png", "screenshot", html, 422, "file_refused"),
        ("MVG named .jpg", "photo", mvg, 422, "file_refused"),
        ("Windows program", "document", exe, 422, "file_refused"),
        ("ELF program", "document", elf, 422, "file_refused"),
        ("zip", "message_export", zip, 422, "file_refused"),
        ("Office document", "document", docx, 422, "file_refused"),
        ("old Office document", "document", ole, 422, "file_refused"),
        ("gzip body", "message_export", gzip, 422, "file_refused"),
        ("EICAR", "message_export", eicar, 422, "file_refused"),
        ("HEIC", "photo", heic, 422, "file_refused"),
        (
            "PNG declaring 65535x65535",
            "screenshot",
            bomb,
            413,
            "payload_too_large",
        ),
        (
            "truncated PNG",
            "screenshot",
            truncated,
            422,
            "file_refused",
        ),
        ("zero bytes", "photo", Vec::new(), 422, "file_refused"),
        (
            "over the limit",
            "message_export",
            too_big,
            413,
            "payload_too_large",
        ),
        (
            "100 times over",
            "message_export",
            vec![b'a'; 100_000_000],
            413,
            "payload_too_large",
        ),
        (
            "a PDF as a photo",
            "photo",
            b"%PDF-1.4\n%%EOF\n".to_vec(),
            422,
            "file_refused",
        ),
    ];
    for (what, kind, bytes, status, code) in cases {
        let (got, v) = upload(
            &t,
            &c,
            &case,
            form(&[("kind", kind)], Some(("evidence.png", bytes))),
        )
        .await;
        assert_eq!(
            (got, v["error"].as_str().unwrap_or("")),
            (status, code),
            "{what}: {v}"
        );
    }
    // framing: two files, 10,000 parts, an unknown field, no file, not multipart
    let two = form(&[("kind", "photo")], Some(("a.jpg", jpeg.clone())))
        .part("file", Part::bytes(jpeg.clone()).file_name("b.jpg"));
    let (got, v) = upload(&t, &c, &case, two).await;
    assert_eq!(got, 422, "{v}");
    // (written by hand: a client's form of 10,000 parts nests as deep)
    let mut many = String::new();
    for i in 0..10_000 {
        many.push_str(&format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\n{i}\r\n"
        ));
    }
    many.push_str("--XyZ--\r\n");
    let r = t
        .req(
            reqwest::Method::POST,
            &format!("/api/v1/cases/{case}/evidence/files"),
            Some(&c),
        )
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(many)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "malformed_body");
    let (got, v) = upload(&t, &c, &case, form(&[("role", "admin")], None)).await;
    assert_eq!(
        (got, v["error"].as_str()),
        (422, Some("unknown_field")),
        "{v}"
    );
    let (got, _) = upload(&t, &c, &case, form(&[("kind", "photo")], None)).await;
    assert_eq!(got, 422);
    let r = t
        .post_json(
            &format!("/api/v1/cases/{case}/evidence/files"),
            Some(&c),
            json!({"kind": "photo"}),
        )
        .await;
    assert_eq!(r.status(), 415);
    // an endless chunked upload stops at the limit
    let endless = futures_util::stream::repeat_with(|| {
        Ok::<_, std::io::Error>(bytes::Bytes::from_static(&[b'a'; 65536]))
    });
    let head = "--XyZ\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nmessage_export\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"e.txt\"\r\n\r\n";
    let body = futures_util::StreamExt::chain(
        futures_util::stream::once(async move {
            Ok::<_, std::io::Error>(bytes::Bytes::from_static(head.as_bytes()))
        }),
        endless,
    );
    let r = t
        .req(
            reqwest::Method::POST,
            &format!("/api/v1/cases/{case}/evidence/files"),
            Some(&c),
        )
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await;
    // the server answers 413 and closes; the client may see the answer or the closed pipe
    if let Ok(r) = r {
        assert_eq!(r.status(), 413);
    }
    // nothing stored, nothing recorded, no temporary file anywhere in the store's folder
    assert_eq!(
        files_under(&t.evidence_dir),
        Vec::<std::path::PathBuf>::new()
    );
    let r = t
        .get(&format!("/api/v1/cases/{case}/evidence"), Some(&c))
        .await;
    assert_eq!(r.json::<Value>().await.unwrap(), json!([]));

    // names are data: cleaned, kept, never a path or a header
    let names = [
        ("../../etc/passwd", ".._.._etc_passwd".to_owned()),
        ("/etc/shadow", "_etc_shadow".to_owned()),
        (
            "a\"; filename=evil.html",
            "a__ filename=evil.html".to_owned(),
        ),
        ("photo\u{202E}gpj.exe", "photogpj.exe".to_owned()),
        ("CON", "CON".to_owned()),
        ("💥.jpg", "💥.jpg".to_owned()),
        (&*"n".repeat(4096), "n".repeat(200)),
    ];
    // a backslash may reach the server escaped by the client: whatever arrives, no separator
    let (got, v) = upload(
        &t,
        &c,
        &case,
        form(
            &[("kind", "photo")],
            Some(("..\\..\\win.ini", jpeg.clone())),
        ),
    )
    .await;
    assert_eq!(got, 201, "{v}");
    let kept = v["evidence"]["original_name"].as_str().unwrap();
    assert!(
        kept.ends_with("win.ini") && !kept.contains(['/', '\\']),
        "{kept}"
    );
    for (raw, kept) in &names {
        let (got, v) = upload(
            &t,
            &c,
            &case,
            form(&[("kind", "photo")], Some((raw, jpeg.clone()))),
        )
        .await;
        assert_eq!(got, 201, "{raw}: {v}");
        assert_eq!(v["evidence"]["original_name"].as_str(), Some(kept.as_str()));
        let id = v["evidence"]["id"].as_str().unwrap();
        let r = t
            .get(
                &format!("/api/v1/cases/{case}/evidence/{id}/display"),
                Some(&c),
            )
            .await;
        let d = r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            !d.contains("passwd") && !d.contains("evil") && !d.contains(".exe"),
            "{d}"
        );
    }
    // every blob lies under the store's own key layout, whatever the names said
    for f in files_under(&t.evidence_dir) {
        let rel = f
            .strip_prefix(&t.evidence_dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(rel.starts_with("cases/"), "{rel}");
        assert!(
            ["original", "clean", "display", "blurred"]
                .iter()
                .any(|c| rel.ends_with(c)),
            "{rel}"
        );
    }
}

#[tokio::test]
async fn the_signed_export_verifies_and_any_change_is_named() {
    let t = TestApp::spawn().await;
    let counsellor = t.staff(Role::Counsellor, None).await;
    let supervisor = t.staff(Role::Supervisor, None).await;
    let c = t.token(&counsellor).await;
    let s = t.token(&supervisor).await;
    let case = t.new_case(&c, "export").await;
    for i in 0..3 {
        let (status, _) = upload(
            &t,
            &c,
            &case,
            form(
                &[("kind", "screenshot")],
                Some(("s.png", phone_png(400, 300, i))),
            ),
        )
        .await;
        assert_eq!(status, 201);
    }
    let r = t
        .post_json(
            &format!("/api/v1/cases/{case}/evidence/notes"),
            Some(&c),
            json!({"kind": "link", "url": "https://www.tiktok.com/@x/video/1", "description": "la vidéo"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    // not for a counsellor
    let r = t
        .get(&format!("/api/v1/cases/{case}/evidence-export"), Some(&c))
        .await;
    assert_eq!(r.status(), 404);
    let r = t
        .get(&format!("/api/v1/cases/{case}/evidence-export"), Some(&s))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let zip = r.bytes().await.unwrap().to_vec();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.zip");
    std::fs::write(&path, &zip).unwrap();
    let entries = export::read_export(&path).unwrap();
    let key = export::parse_public_key(&t.app.evidence_public_key()).unwrap();
    let report = export::verify(&entries, &key);
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.intact, 3);
    let manifest: export::Manifest = serde_json::from_slice(&entries["manifest.json"]).unwrap();
    assert_eq!(manifest.evidence.len(), 4);
    assert_eq!(manifest.files.len(), 3);
    // the export's own custody events are in its manifest
    let exported = manifest
        .custody
        .iter()
        .filter(|e| e.action == "evidence.exported")
        .count();
    assert_eq!(exported, 4);
    // altered, missing, added
    let mut bad = entries.clone();
    let first = manifest.files[0].path.clone();
    bad.get_mut(&first).unwrap()[40] ^= 1;
    bad.remove(&manifest.files[1].path);
    bad.insert("files/9999-extra.png".into(), b"extra".to_vec());
    let r = export::verify(&bad, &key);
    assert!(!r.ok());
    assert!(r.signature_ok);
    assert_eq!(r.altered, vec![first]);
    assert_eq!(r.missing, vec![manifest.files[1].path.clone()]);
    assert_eq!(r.added, vec!["files/9999-extra.png".to_owned()]);
    // a changed manifest breaks the signature
    let mut forged = entries.clone();
    let text = String::from_utf8(forged["manifest.json"].clone()).unwrap();
    forged.insert(
        "manifest.json".into(),
        text.replacen("export", "exp0rt", 1).into_bytes(),
    );
    assert!(!export::verify(&forged, &key).signature_ok);
    // another helpline's key does not verify it
    let other = export::signing_key(&[9; 32]).verifying_key();
    let r = export::verify(&entries, &other);
    assert!(!r.signature_ok && !r.key_matches);
}
