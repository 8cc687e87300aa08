/**
 * Windows: Windows PowerShell 5.1 (in every Windows 10/11) running one constant WinForms script,
 * passed with `-EncodedCommand` (UTF-16LE base64, so no quoting by any shell). The texts reach it
 * only in environment variables, read as plain strings (labels with UseMnemonic off). On OK the
 * script writes the entry to stdout and exits 0; Cancel, Escape or closing exits 1.
 */
import type { DialogCommand, DialogProgram } from './dialog-program.js';
import { exitCodeOutcome } from './dialog-program.js';
import type { DialogTexts } from './texts.js';

/** The environment variables carrying the window (never the PIN). */
export const POWERSHELL_TEXT_VARIABLES = {
  mode: 'MYNA_DIALOG_MODE',
  title: 'MYNA_DIALOG_TITLE',
  text: 'MYNA_DIALOG_TEXT',
  ok: 'MYNA_DIALOG_OK',
  cancel: 'MYNA_DIALOG_CANCEL',
} as const;

/** The one script for all three windows; MYNA_DIALOG_MODE is pin, confirm or notice. */
export const POWERSHELL_SCRIPT = `$ErrorActionPreference = 'Stop'
trap { exit 3 }
Add-Type -AssemblyName System.Windows.Forms, System.Drawing
[System.Windows.Forms.Application]::EnableVisualStyles()
$mode = $env:MYNA_DIALOG_MODE
$form = New-Object System.Windows.Forms.Form
$form.Text = $env:MYNA_DIALOG_TITLE
$form.FormBorderStyle = [System.Windows.Forms.FormBorderStyle]::FixedDialog
$form.MaximizeBox = $false
$form.MinimizeBox = $false
$form.TopMost = $true
$form.StartPosition = [System.Windows.Forms.FormStartPosition]::CenterScreen
$form.AutoSize = $true
$form.AutoSizeMode = [System.Windows.Forms.AutoSizeMode]::GrowAndShrink
$form.Padding = New-Object System.Windows.Forms.Padding(12)
$panel = New-Object System.Windows.Forms.FlowLayoutPanel
$panel.FlowDirection = [System.Windows.Forms.FlowDirection]::TopDown
$panel.AutoSize = $true
$panel.WrapContents = $false
$label = New-Object System.Windows.Forms.Label
$label.UseMnemonic = $false
$label.AutoSize = $true
$label.MaximumSize = New-Object System.Drawing.Size(420, 0)
$label.Text = $env:MYNA_DIALOG_TEXT
$panel.Controls.Add($label)
$box = $null
if ($mode -eq 'pin') {
  $box = New-Object System.Windows.Forms.TextBox
  $box.UseSystemPasswordChar = $true
  $box.Width = 200
  $panel.Controls.Add($box)
}
$buttons = New-Object System.Windows.Forms.FlowLayoutPanel
$buttons.AutoSize = $true
$buttons.FlowDirection = [System.Windows.Forms.FlowDirection]::RightToLeft
$cancel = New-Object System.Windows.Forms.Button
$cancel.Text = $env:MYNA_DIALOG_CANCEL
$cancel.DialogResult = [System.Windows.Forms.DialogResult]::Cancel
$form.CancelButton = $cancel
if ($mode -ne 'notice') {
  $ok = New-Object System.Windows.Forms.Button
  $ok.Text = $env:MYNA_DIALOG_OK
  $ok.DialogResult = [System.Windows.Forms.DialogResult]::OK
  $buttons.Controls.Add($ok)
}
$buttons.Controls.Add($cancel)
$panel.Controls.Add($buttons)
$form.Controls.Add($panel)
if ($mode -eq 'pin') { $form.AcceptButton = $ok; $form.ActiveControl = $box } else { $form.AcceptButton = $cancel; $form.ActiveControl = $cancel }
$form.Add_Shown({ $form.Activate() })
$result = $form.ShowDialog()
if ($result -ne [System.Windows.Forms.DialogResult]::OK) { exit 1 }
if ($mode -eq 'pin') { [Console]::Out.WriteLine($box.Text) }
exit 0
`;

/** -EncodedCommand takes base64 of the UTF-16LE script. */
export const POWERSHELL_ENCODED_SCRIPT = Buffer.from(POWERSHELL_SCRIPT, 'utf16le').toString('base64');

/** Windows PowerShell from the system directory, not whatever `powershell.exe` PATH finds first. */
export function windowsPowerShellPath(env: NodeJS.ProcessEnv): string {
  const root = env.SystemRoot ?? env.SYSTEMROOT ?? 'C:\\Windows';
  return `${root}\\System32\\WindowsPowerShell\\v1.0\\powershell.exe`;
}

export function powershellProgram(file: string): DialogProgram {
  const command = (mode: 'pin' | 'confirm' | 'notice', texts: DialogTexts): DialogCommand => ({
    file,
    args: [
      '-NoProfile',
      '-NonInteractive',
      '-ExecutionPolicy',
      'Bypass',
      '-STA',
      '-EncodedCommand',
      POWERSHELL_ENCODED_SCRIPT,
    ],
    env: {
      [POWERSHELL_TEXT_VARIABLES.mode]: mode,
      [POWERSHELL_TEXT_VARIABLES.title]: texts.title,
      [POWERSHELL_TEXT_VARIABLES.text]: texts.text,
      [POWERSHELL_TEXT_VARIABLES.ok]: texts.ok ?? 'OK',
      [POWERSHELL_TEXT_VARIABLES.cancel]: texts.cancel,
    },
    outcome: exitCodeOutcome([1]),
  });
  return {
    kind: 'powershell',
    pinDialog: (texts) => command('pin', texts),
    confirmDialog: (texts) => command('confirm', texts),
    noticeDialog: (texts) => command('notice', texts),
  };
}
