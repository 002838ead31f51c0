//! `genre features`: arrays (.npy/.csv/.png) or the GTZAN-57 table (.csv) from audio.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use genre_audio::{load, AudioStream, LoadOptions};
use genre_features::convert::{fft_frequencies, mel_frequencies};
use genre_features::core::{power_to_db, spectrogram, DbRef, Frame};
use genre_features::feature::{chroma_stft, mel_projector, melspectrogram, mfcc_from_logmel, MelSpecParams};
use genre_features::filters::MelNorm;
use genre_features::gtzan::{gtzan57, gtzan57_names, GTZAN57_MAX_SECS};
use genre_features::stream::FrameStream;
use genre_features::Array2;
use genre_report::npy::{write_npy, NpyColumnWriter};
use genre_report::spectrogram::{FreqAxis, Range, Spectrogram};
use rayon::prelude::*;

use crate::batch::report_failures;
use crate::progress::bar;
use genre_pipeline::inputs::expand;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// Power spectrogram |STFT|^2, [1 + n_fft/2, frames].
    Stft,
    /// Mel power spectrogram, [n_mels, frames].
    Mel,
    /// Log-mel in dB (power_to_db), [n_mels, frames].
    Logmel,
    /// MFCC (DCT-II ortho of the log-mel), [n_mfcc, frames].
    Mfcc,
    /// Chroma (chroma_stft with tuning estimation), [12, frames].
    Chroma,
    /// The 57 GTZAN features (features_30_sec.csv columns), one CSV row per file.
    Gtzan57,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum RefLevel {
    /// 0 dB = power 1.0 (librosa's default; what MFCC uses).
    One,
    /// 0 dB = the loudest cell of the file.
    Max,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Npy,
    Csv,
    Png,
}

/// Examples:
///   genre features song.mp3 --kind logmel --out song.npy
///   genre features song.mp3 --kind logmel --out song.png
///   genre features music/ --kind gtzan57 --out features.csv
///   genre features music/ --kind mfcc --out mfcc_dir/ --format npy
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct FeaturesArgs {
    /// Audio files or folders (searched recursively for wav/flac/mp3/ogg/m4a).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    #[arg(long, value_enum)]
    pub kind: Kind,
    /// Output: a file (.npy, .csv, .png) for one input, a folder for several (arrays), a .csv
    /// (or '-' for stdout) for gtzan57.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Array format when --out is a folder.
    #[arg(long, value_enum, default_value = "npy")]
    pub format: Format,
    /// Sample rate the audio is resampled to.
    #[arg(long, default_value_t = 22050)]
    pub sr: u32,
    #[arg(long, default_value_t = 2048)]
    pub n_fft: usize,
    #[arg(long, default_value_t = 512)]
    pub hop: usize,
    #[arg(long, default_value_t = 128)]
    pub n_mels: usize,
    #[arg(long, default_value_t = 20)]
    pub n_mfcc: usize,
    #[arg(long, default_value_t = 0.0)]
    pub fmin: f64,
    /// Highest mel frequency (default sr/2).
    #[arg(long)]
    pub fmax: Option<f64>,
    /// HTK mel scale instead of Slaney's.
    #[arg(long)]
    pub htk: bool,
    /// Disable Slaney area normalisation of the mel filters.
    #[arg(long)]
    pub no_mel_norm: bool,
    /// Dynamic range kept below the maximum (dB); 0 disables the floor.
    #[arg(long, default_value_t = 80.0)]
    pub top_db: f32,
    #[arg(long = "ref", value_enum, default_value = "one")]
    pub reference: RefLevel,
    /// Seconds to skip at the start of each file.
    #[arg(long, default_value_t = 0.0)]
    pub offset: f64,
    /// Seconds to read at most from each file.
    #[arg(long)]
    pub duration: Option<f64>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

impl FeaturesArgs {
    fn load_options(&self) -> LoadOptions {
        LoadOptions { sr: Some(self.sr), offset: self.offset, duration: self.duration }
    }

    fn mel_params(&self) -> MelSpecParams {
        let mut p = MelSpecParams::new(self.sr, self.n_fft, self.hop, self.n_mels);
        p.mel.fmin = self.fmin;
        p.mel.fmax = self.fmax;
        p.mel.htk = self.htk;
        p.mel.norm = if self.no_mel_norm { MelNorm::None } else { MelNorm::Slaney };
        p
    }

    fn db_ref(&self) -> DbRef {
        match self.reference {
            RefLevel::One => DbRef::Value(1.0),
            RefLevel::Max => DbRef::Max,
        }
    }

    fn top_db(&self) -> Option<f32> {
        (self.top_db > 0.0).then_some(self.top_db)
    }
}

pub fn run(args: FeaturesArgs) -> Result<ExitCode> {
    let inputs = expand(&args.inputs);
    let total = inputs.total();
    let files = inputs.files;
    if files.is_empty() {
        bail!("no audio files found in {:?}", args.inputs);
    }
    if args.kind == Kind::Gtzan57 {
        return gtzan_table(&args, &files, inputs.errors);
    }
    let single_out = ["npy", "csv", "png"].iter().any(|e| args.out.extension().is_some_and(|x| x == *e));
    if !single_out && !args.out.is_dir() && args.out.extension().is_some() {
        bail!("--out {}: write .npy, .csv or .png, or name a folder (without an extension)", args.out.display());
    }
    // A bad output path is the command's fault, not the inputs': refuse it before any work.
    let out_dir =
        if single_out { args.out.parent().map(Path::to_path_buf).unwrap_or_default() } else { args.out.clone() };
    let missing = if single_out { !out_dir.as_os_str().is_empty() && !out_dir.is_dir() } else { out_dir.is_file() };
    if missing {
        bail!("--out {}: {} is not a folder that exists", args.out.display(), out_dir.display());
    }
    if single_out && files.len() == 1 {
        return Ok(match write_atomically(&args.out, |tmp| array_to_file(&args, &files[0], tmp)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("failed: {e:#}");
                ExitCode::FAILURE
            }
        });
    }
    if single_out {
        bail!("{} inputs need --out to be a folder (got {})", files.len(), args.out.display());
    }
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let ext = match args.format {
        Format::Npy => "npy",
        Format::Csv => "csv",
        Format::Png => "png",
    };
    // Two inputs of the same name (d1/a.wav, d2/a.wav) would write one output: refuse up front.
    let mut outputs: std::collections::HashMap<String, &Path> = std::collections::HashMap::new();
    for f in &files {
        let stem = f.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        if let Some(other) = outputs.insert(stem.clone(), f) {
            bail!(
                "{} and {} would both be written to {}: give them separate --out folders",
                other.display(),
                f.display(),
                args.out.join(format!("{stem}.{ext}")).display()
            );
        }
    }
    let pb = bar(files.len() as u64, "features", args.quiet);
    let failures = Mutex::new(inputs.errors);
    files.par_iter().for_each(|f| {
        let stem = f.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let out = args.out.join(format!("{stem}.{ext}"));
        if let Err(e) = write_atomically(&out, |tmp| array_to_file(&args, f, tmp)) {
            failures.lock().unwrap().push(format!("{e:#}"));
        }
        pb.inc(1);
    });
    pb.finish_and_clear();
    let failures = failures.into_inner().unwrap();
    Ok(report_failures(&failures, total))
}

/// Write through a temporary file beside `out`, renamed into place only when complete: a failed
/// or interrupted run leaves no half-written output (and an older output stays whole).
fn write_atomically(out: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = out.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    // The extension stays last: it chooses the format.
    let tmp = out.with_file_name(format!(".{name}.tmp{}{ext}", std::process::id()));
    match write(&tmp) {
        Ok(()) => std::fs::rename(&tmp, out).with_context(|| out.display().to_string()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn array_to_file(args: &FeaturesArgs, input: &Path, out: &Path) -> Result<()> {
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext == "npy" && matches!(args.kind, Kind::Stft | Kind::Mel | Kind::Logmel) {
        return stream_to_npy(args, input, out);
    }
    // Held whole: decode at most a second past the limit, then refuse a longer file (a 2-hour
    // file as MFCC took 3 GB) naming the way out.
    let mut opts = args.load_options();
    opts.duration = Some(opts.duration.map_or(WHOLE_MAX_SECS + 1.0, |d| d.min(WHOLE_MAX_SECS + 1.0)));
    let audio = load(input, opts)?;
    if audio.samples.len() as f64 > WHOLE_MAX_SECS * audio.sr as f64 {
        bail!(
            "{}: longer than {WHOLE_MAX_SECS} s; --kind {:?} to .{ext} holds the whole file: take a part with \
             --offset/--duration (stft, mel and logmel to .npy stream any length)",
            input.display(),
            args.kind
        );
    }
    let (array, axis, is_db) = compute(args, &audio.samples).with_context(|| input.display().to_string())?;
    match ext {
        "npy" => write_npy(out, &[array.rows, array.cols], &array.data)?,
        "csv" => write_csv(out, &array)?,
        "png" => {
            let (shown, range, unit) = png_scale(args, array, is_db);
            let title =
                format!("{} - {:?}", input.file_name().unwrap_or_default().to_string_lossy(), args.kind).to_lowercase();
            Spectrogram {
                data: &shown.data,
                rows: shown.rows,
                frames: shown.cols,
                seconds_per_frame: args.hop as f64 / args.sr as f64,
                axis: &axis,
                title: &title,
                range,
                unit,
                frame_px: 1,
            }
            .save_png(out)?
        }
        other => bail!("unknown output extension '.{other}' (use .npy, .csv or .png)"),
    }
    Ok(())
}

/// What a picture of `kind` shows and its colour bar's unit: power is shown in dB under the
/// file's loudest (80 dB of it), dB as computed, MFCC and chroma as they are.
fn png_scale(args: &FeaturesArgs, array: Array2, is_db: bool) -> (Array2, Range, &'static str) {
    let loudest = "dB (0 = the file's loudest)";
    match args.kind {
        Kind::Mfcc => (array, Range::Data, "MFCC value"),
        Kind::Chroma => (array, Range::Fixed(0.0, 1.0), "chroma energy, 0-1 (each frame's strongest = 1)"),
        _ if is_db => {
            let range = args.top_db().map_or(Range::Data, Range::BelowMax);
            let unit = match args.reference {
                RefLevel::Max => loudest,
                RefLevel::One => "dB (re power 1.0)",
            };
            (array, range, unit)
        }
        _ => (power_to_db(&array, DbRef::Max, 1e-10, Some(80.0)), Range::BelowMax(80.0), loudest),
    }
}

/// Longest signal computed whole (every output but stft/mel/logmel to .npy, which stream): the
/// same limit as GTZAN-57's.
const WHOLE_MAX_SECS: f64 = GTZAN57_MAX_SECS;

/// The whole array of `kind` for a signal, its vertical axis, and whether it is in dB.
fn compute(args: &FeaturesArgs, y: &[f32]) -> Result<(Array2, FreqAxis, bool)> {
    let p = args.mel_params();
    let mel_axis = || {
        FreqAxis::Hz(
            mel_frequencies(args.n_mels + 2, args.fmin, args.fmax.unwrap_or(args.sr as f64 / 2.0), args.htk)
                [1..=args.n_mels]
                .to_vec(),
        )
    };
    Ok(match args.kind {
        Kind::Stft => (spectrogram(y, p.stft, 2.0)?, FreqAxis::Hz(fft_frequencies(args.sr, args.n_fft)), false),
        Kind::Mel => (melspectrogram(y, &p)?, mel_axis(), false),
        Kind::Logmel => (power_to_db(&melspectrogram(y, &p)?, args.db_ref(), 1e-10, args.top_db()), mel_axis(), true),
        Kind::Mfcc => {
            let logmel = power_to_db(&melspectrogram(y, &p)?, args.db_ref(), 1e-10, args.top_db());
            let labels = (1..=args.n_mfcc).map(|i| format!("{i}")).collect();
            (mfcc_from_logmel(&logmel, args.n_mfcc), FreqAxis::Labels(labels), false)
        }
        Kind::Chroma => {
            let power = spectrogram(y, p.stft, 2.0)?;
            let names = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
            (
                chroma_stft(&power, args.sr, args.n_fft, 12),
                FreqAxis::Labels(names.iter().map(|s| s.to_string()).collect()),
                false,
            )
        }
        Kind::Gtzan57 => unreachable!("handled by gtzan_table"),
    })
}

fn write_csv(out: &Path, a: &Array2) -> Result<()> {
    let mut w = csv::Writer::from_path(out)?;
    for r in 0..a.rows {
        w.write_record(a.row(r).iter().map(|v| v.to_string()))?;
    }
    w.flush()?;
    Ok(())
}

/// Decode, extract and write frame by frame: memory stays flat whatever the file's length.
/// The dB floor (top_db) depends on the whole file's maximum, so it is applied in a second pass
/// over the written file.
fn stream_to_npy(args: &FeaturesArgs, input: &Path, out: &Path) -> Result<()> {
    let p = args.mel_params();
    let audio = AudioStream::open(input, args.load_options())?;
    let (mut writer, max_power) = if args.kind == Kind::Stft {
        let power = |f: &mut Frame<'_>, row: &mut [f32]| row.copy_from_slice(f.power());
        pump(audio, FrameStream::new(p.stft, p.stft.n_bins(), power)?, out)
    } else {
        let (width, project) = mel_projector(&p);
        pump(audio, FrameStream::new(p.stft, width, project)?, out)
    }
    .with_context(|| input.display().to_string())?;
    if args.kind == Kind::Logmel {
        let reference = match args.db_ref() {
            DbRef::Value(v) => v,
            DbRef::Max => max_power,
        };
        let offset = 10.0 * reference.max(1e-10).log10();
        let max_db = 10.0 * max_power.max(1e-10).log10() - offset;
        let floor = args.top_db().map(|t| max_db - t).unwrap_or(f32::NEG_INFINITY);
        writer.map_in_place(|v| (10.0 * v.max(1e-10).log10() - offset).max(floor))?;
    }
    writer.finish()?;
    Ok(())
}

/// Move every chunk of `audio` through `frames` into a column writer; returns the writer and
/// the largest value written.
fn pump<F>(mut audio: AudioStream, mut frames: FrameStream<f32, F>, out: &Path) -> Result<(NpyColumnWriter, f32)>
where
    F: Fn(&mut Frame<'_>, &mut [f32]) + Sync,
{
    let mut writer = NpyColumnWriter::create(out, frames.width())?;
    let mut max = 0.0f32;
    let mut write = |cols: Vec<f32>, w: &mut NpyColumnWriter| -> Result<()> {
        max = cols.iter().copied().fold(max, f32::max);
        w.push_columns(&cols)?;
        Ok(())
    };
    while let Some(chunk) = audio.next_chunk()? {
        write(frames.push(&chunk)?, &mut writer)?;
    }
    write(frames.finish()?, &mut writer)?;
    Ok((writer, max))
}

/// One CSV row per file with the table's header (filename, length, 57 features, label = the
/// parent folder's name, as in GTZAN's genre folders).
fn gtzan_table(args: &FeaturesArgs, files: &[PathBuf], walk_errors: Vec<String>) -> Result<ExitCode> {
    let pb = bar(files.len() as u64, "gtzan57", args.quiet);
    // Decode at most a second past the limit: a longer file is then refused by gtzan57 without
    // ever being held whole (a 3-hour file would be 950 MB of samples).
    let mut opts = args.load_options();
    let cap = GTZAN57_MAX_SECS + 1.0;
    opts.duration = Some(opts.duration.map_or(cap, |d| d.min(cap)));
    let rows: Vec<Result<(u64, Vec<f64>)>> = files
        .par_iter()
        .map(|f| {
            let r = (|| {
                let audio = load(f, opts)?;
                let v = gtzan57(&audio.samples, audio.sr).with_context(|| f.display().to_string())?;
                Ok((audio.samples.len() as u64, v))
            })();
            pb.inc(1);
            r
        })
        .collect();
    pb.finish_and_clear();
    let to_stdout = args.out.as_os_str() == "-";
    let mut w: csv::Writer<Box<dyn std::io::Write>> = csv::Writer::from_writer(if to_stdout {
        Box::new(std::io::stdout())
    } else {
        Box::new(std::fs::File::create(&args.out).with_context(|| args.out.display().to_string())?)
    });
    let mut header = vec!["filename".to_string(), "length".to_string()];
    header.extend(gtzan57_names());
    header.push("label".into());
    w.write_record(&header)?;
    let total = files.len() + walk_errors.len();
    let mut failures = walk_errors;
    for (f, r) in files.iter().zip(rows) {
        match r {
            Ok((len, v)) => {
                let name = f.file_name().unwrap_or_default().to_string_lossy().into_owned();
                let label = f
                    .parent()
                    .and_then(|p| p.file_name())
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let mut rec = vec![name, len.to_string()];
                rec.extend(v.iter().map(|x| format!("{x}")));
                rec.push(label);
                w.write_record(&rec)?;
            }
            Err(e) => failures.push(format!("{e:#}")),
        }
    }
    w.flush()?;
    Ok(report_failures(&failures, total))
}
