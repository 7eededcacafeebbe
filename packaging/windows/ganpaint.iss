; Inno Setup script of GANPaint for Windows (x64), written to the same PyInstaller spec.
; It packs the one-folder bundle dist\ganpaint (made by packaging\ganpaint.spec on Windows:
; ganpaint.exe = console program, GANPaint.exe = the editor without a console window).
;
;   iscc /DAppVersion=0.1.0 packaging\windows\ganpaint.iss
;   -> dist\GANPaint-0.1.0-setup.exe
; See packaging\windows\build.ps1 for the whole build and packaging\README.md.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define Root "..\.."

[Setup]
AppId={{6F0B7C9E-3A5D-4E1B-9C62-5B1D2E7A4F30}
AppName=GANPaint
AppVersion={#AppVersion}
AppVerName=GANPaint {#AppVersion}
AppPublisher=The GANPaint developers
DefaultDirName={autopf}\GANPaint
DefaultGroupName=GANPaint
DisableProgramGroupPage=yes
; per-user install without admin rights is offered too
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
LicenseFile={#Root}\LICENSE
SetupIconFile={#Root}\build\ganpaint.ico
UninstallDisplayIcon={app}\GANPaint.exe
OutputDir={#Root}\dist
OutputBaseFilename=GANPaint-{#AppVersion}-setup
; torch and Qt compress well with LZMA2; solid keeps the installer small
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesAssociations=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "oraassoc"; Description: "Open OpenRaster (.ora) files with GANPaint"; GroupDescription: "File types:"

[Files]
Source: "{#Root}\dist\ganpaint\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\GANPaint"; Filename: "{app}\GANPaint.exe"
Name: "{autodesktop}\GANPaint"; Filename: "{app}\GANPaint.exe"; Tasks: desktopicon

[Registry]
Root: HKA; Subkey: "Software\Classes\.ora\OpenWithProgids"; ValueType: string; ValueName: "GANPaint.ora"; ValueData: ""; Flags: uninsdeletevalue; Tasks: oraassoc
Root: HKA; Subkey: "Software\Classes\GANPaint.ora"; ValueType: string; ValueName: ""; ValueData: "OpenRaster image"; Flags: uninsdeletekey; Tasks: oraassoc
Root: HKA; Subkey: "Software\Classes\GANPaint.ora\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\GANPaint.exe,0"; Tasks: oraassoc
Root: HKA; Subkey: "Software\Classes\GANPaint.ora\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\GANPaint.exe"" ""%1"""; Tasks: oraassoc
Root: HKA; Subkey: "Software\Classes\Applications\GANPaint.exe\SupportedTypes"; ValueType: string; ValueName: ".png"; ValueData: ""; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\GANPaint.exe\SupportedTypes"; ValueType: string; ValueName: ".jpg"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\GANPaint.exe\SupportedTypes"; ValueType: string; ValueName: ".webp"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\GANPaint.exe\SupportedTypes"; ValueType: string; ValueName: ".ora"; ValueData: ""

[Run]
Filename: "{app}\GANPaint.exe"; Description: "{cm:LaunchProgram,GANPaint}"; Flags: nowait postinstall skipifsilent
