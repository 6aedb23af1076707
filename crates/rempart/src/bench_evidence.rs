//! `rempart bench evidence`: uploads of a 10 MB photo through the HTTP API (in-process: the
//! router's own handling, multipart parsing included) to the encrypted store — type check,
//! SHA-256, MD5, PDQ, the three derivatives, sealing and the writes — on the filesystem or a
//! real S3-compatible server (s3s-fs), each beside its floor: a plain write of the same
//! bytes to the same store. Then the signed export of a case with 100 pieces of evidence
//! and its verification; the metadata left in the derivatives of the GPS-tagged corpus; the
//! files written for uploads marked as sexual images of a minor.

use crate::bench::pct;
use anyhow::{Context, Result, bail};
use axum::body::Body;
use axum::http::{Request, header};
use bytes::Bytes;
use rempart_app::App;
use rempart_app::clock::SystemClock;
use rempart_app::evidence::{Content, EvidenceInput};
use rempart_blob::BlobKey;
use rempart_domain::case::EvidenceKind;
use rempart_domain::policy::{Actor, Role};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tower::ServiceExt;

/// Options.
pub struct Opts {
    pub store: String,
    pub s3fs_bin: Option<PathBuf>,
    pub uploads: usize,
    pub export_items: usize,
}

fn multipart(kind: &str, flags: &[(&str, &str)], file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "rempart-bench-boundary-7f3a";
    let mut b = Vec::with_capacity(file.len() + 512);
    let mut field = |name: &str, value: &str| {
        b.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    };
    field("kind", kind);
    for (k, v) in flags {
        field(k, v);
    }
    b.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"IMG_0001.JPG\"\r\nContent-Type: image/jpeg\r\n\r\n"
        )
        .as_bytes(),
    );
    b.extend_from_slice(file);
    b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), b)
}

fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() { files_under(&p) } else { 1 }
                })
                .sum()
        })
        .unwrap_or(0)
}

async fn new_case(
    app: &App,
    actor: &Actor,
    title: &str,
) -> Result<rempart_app::records::CaseRecord> {
    app.create_case(
        actor,
        rempart_app::cases::CaseInput {
            title: title.into(),
            categories: vec!["cyber_harassment".into()],
            age_band: rempart_domain::values::AgeBand::From11To14,
            preferred_channel: None,
            consents: vec![],
            articles: vec![],
            team: None,
        },
        None,
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.message))
}

pub async fn run(o: Opts) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("rempart-bench-evidence-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}/bench.db", dir.display());
    let mut s = crate::bench_chat::bench_settings(&url, None);
    let blob_root = dir.join("blobs");
    let _s3 = match o.store.as_str() {
        "fs" => {
            s.evidence.path = blob_root.to_string_lossy().into_owned();
            None
        }
        "s3" => {
            let bin = o
                .s3fs_bin
                .clone()
                .unwrap_or_else(|| PathBuf::from("target/tools/bin/s3s-fs"));
            if !bin.is_file() {
                bail!(
                    "no s3s-fs at {} (crates/blob/s3-server.sh install)",
                    bin.display()
                );
            }
            let guard = rempart_blob::testing::S3fs::start(&bin, &blob_root);
            s.evidence.store = rempart_app::settings::EvidenceStore::S3;
            s.evidence.s3_endpoint = guard.endpoint();
            s.evidence.s3_bucket = rempart_blob::testing::BUCKET.into();
            s.evidence.s3_access_key_id = rempart_blob::testing::ACCESS_KEY.into();
            s.evidence.s3_secret_access_key =
                rempart_app::secret::Secret::new(rempart_blob::testing::SECRET_KEY);
            s.evidence.s3_allow_http = true;
            Some(guard)
        }
        other => bail!("--store must be fs or s3, not {other}"),
    };
    let plain_store = rempart_app::evidence::blob_store(&s)
        .map_err(anyhow::Error::msg)?
        .context("no store")?;
    let app = App::start(s, Arc::new(SystemClock)).await?;
    let (sup, _) = crate::bench::bench_staff(&app).await?;
    let actor = Actor {
        id: sup.id,
        role: Role::Supervisor,
        team: None,
    };
    let token = app
        .login(&sup.email, "benchmark-password")
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?
        .token;
    let router = rempart_web::router(rempart_web::AppState::new(app.clone())?);
    let case = new_case(&app, &actor, "bench").await?;

    eprintln!("making a 10 MB phone photo…");
    let photo = rempart_media::testing::noisy_photo_jpeg(4032, 3024, 42, 95);
    eprintln!(
        "photo: {:.1} MB, 4032×3024; {} uploads to the {} store",
        photo.len() as f64 / 1e6,
        o.uploads,
        o.store
    );
    let (ct, body) = multipart("photo", &[], &photo);
    let body = Bytes::from(body);
    let raw = Bytes::from(photo.clone());
    let mut upload_ms = Vec::with_capacity(o.uploads);
    let mut copy_ms = Vec::with_capacity(o.uploads);
    for i in 0..o.uploads {
        // the floor: the same bytes written as they are, to the same store
        let key = BlobKey::new(&["bench", "plain", &i.to_string()]).map_err(anyhow::Error::msg)?;
        let t = Instant::now();
        plain_store
            .put_new(&key, raw.clone())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        copy_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let req = Request::post(format!("/api/v1/cases/{}/evidence/files", case.id))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, &ct)
            .body(Body::from(body.clone()))?;
        let t = Instant::now();
        let resp = router.clone().oneshot(req).await?;
        let status = resp.status();
        let _ = axum::body::to_bytes(resp.into_body(), 1 << 20).await?;
        upload_ms.push(t.elapsed().as_secs_f64() * 1e3);
        if status != 201 {
            bail!("upload {i}: HTTP {status}");
        }
    }
    upload_ms.sort_by(f64::total_cmp);
    copy_ms.sort_by(f64::total_cmp);
    println!(
        "upload of a {:.1} MB photo through the API to the encrypted {} store (hashes, PDQ, 3 derivatives): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} uploads)",
        photo.len() as f64 / 1e6,
        o.store,
        pct(&upload_ms, 0.5),
        pct(&upload_ms, 0.99),
        upload_ms.last().copied().unwrap_or(0.0),
        o.uploads
    );
    println!(
        "floor: plain write of the same bytes to the same store: p50 {:.1} ms, p99 {:.1} ms",
        pct(&copy_ms, 0.5),
        pct(&copy_ms, 0.99)
    );

    // an export of a case with N pieces of evidence
    let case2 = new_case(&app, &actor, "export").await?;
    eprintln!("adding {} screenshots to a case…", o.export_items);
    let mut total = 0usize;
    for i in 0..o.export_items {
        let png = rempart_media::testing::phone_png(1080, 720, i as u32);
        total += png.len();
        app.add_evidence(
            &actor,
            case2.id,
            EvidenceInput {
                kind: Some(EvidenceKind::Screenshot),
                ..Default::default()
            },
            Content::File {
                bytes: png,
                name: Some(format!("capture-{i}.png")),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    }
    let mut export_ms = vec![];
    let mut last = None;
    for _ in 0..3 {
        let t = Instant::now();
        let x = app
            .export_evidence(&actor, case2.id)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
        export_ms.push(t.elapsed().as_secs_f64() * 1e3);
        last = Some(x);
    }
    let x = last.context("no export")?;
    let zip_path = dir.join("export.zip");
    std::fs::write(&zip_path, &x.zip)?;
    let t = Instant::now();
    let entries =
        rempart_app::evidence::export::read_export(&zip_path).map_err(anyhow::Error::msg)?;
    let key = rempart_app::evidence::export::parse_public_key(&app.evidence_public_key())
        .map_err(anyhow::Error::msg)?;
    let report = rempart_app::evidence::export::verify(&entries, &key);
    let verify_ms = t.elapsed().as_secs_f64() * 1e3;
    if !report.ok() {
        bail!("the export does not verify: {report:?}");
    }
    export_ms.sort_by(f64::total_cmp);
    println!(
        "signed export of {} pieces of evidence ({:.1} MB of originals, {} custody events): {:.0} ms median of 3, {:.0} ms max; verified in {:.0} ms",
        o.export_items,
        total as f64 / 1e6,
        x.manifest.custody.len(),
        pct(&export_ms, 0.5),
        export_ms.last().copied().unwrap_or(0.0),
        verify_ms
    );

    // metadata left in the derivatives of the GPS-tagged corpus
    let limits = app.evidence_limits();
    let mut meta = 0;
    let mut copies = 0;
    for (i, (w, h, orient)) in [(640, 480, 1), (800, 600, 6), (1700, 1275, 8), (300, 200, 3)]
        .into_iter()
        .enumerate()
    {
        for file in [
            rempart_media::testing::phone_jpeg(w, h, i as u32, orient),
            rempart_media::testing::phone_png(w, h, i as u32),
        ] {
            let insp = rempart_media::inspect(&file, &limits).map_err(anyhow::Error::msg)?;
            let d = rempart_media::derive(&file, &insp, &limits).map_err(anyhow::Error::msg)?;
            for c in [d.clean, d.display, d.blurred].into_iter().flatten() {
                meta += rempart_media::testing::metadata_bytes(&c);
                copies += 1;
            }
        }
    }
    println!("metadata bytes in {copies} derivatives of the GPS-tagged corpus: {meta}");

    // uploads marked as sexual images of a minor: refused, nothing written
    if o.store == "fs" {
        let before = files_under(&blob_root);
        let mut refused = 0;
        for _ in 0..20 {
            let (ct, body) = multipart(
                "photo",
                &[("sexual_image_of_minor", "true")],
                &photo[..200_000],
            );
            let req = Request::post(format!("/api/v1/cases/{}/evidence/files", case.id))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))?;
            if router.clone().oneshot(req).await?.status() == 422 {
                refused += 1;
            }
        }
        println!(
            "uploads marked as sexual images of a minor: {refused} of 20 refused, {} files written",
            files_under(&blob_root) - before
        );
    }
    app.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
