; Inno Setup script: wraps the one-folder PyInstaller build into a per-user installer.
; Build: iscc build\windows\mangalm.iss  (after python build\build_app.py)

#define AppName "Mangalm Sales"
#define AppVersion GetEnv("MANGALM_VERSION")
#if AppVersion == ""
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6F2C1E7A-8E5B-4C7D-9A31-2D7B9E0C4A11}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=Mangalm
DefaultDirName={localappdata}\Programs\MangalmSales
DefaultGroupName={#AppName}
PrivilegesRequired=lowest
OutputDir=..\..\dist
OutputBaseFilename=MangalmSales-{#AppVersion}-setup
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
ArchitecturesInstallIn64BitMode=x64compatible
UninstallDisplayIcon={app}\MangalmSales.exe

[Files]
Source: "..\..\dist\MangalmSales\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\MangalmSales.exe"
Name: "{userdesktop}\{#AppName}"; Filename: "{app}\MangalmSales.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Run]
Filename: "{app}\MangalmSales.exe"; Description: "Start {#AppName}"; Flags: nowait postinstall skipifsilent
