using System.Diagnostics;

namespace FlyteSharp.Tests.Bundles;

/// <summary>
/// Creates and removes files whose names are not valid UTF-8, which no .NET string can name. python3 passes the name
/// to the OS as raw bytes (Linux file names are bytes; such names arrive from archives, other tools and other locales).
/// </summary>
internal static class NonUtf8Names
{
    public static void Create(string directory, byte[] name) => Python("open(p, 'wb').close()", directory, name);

    public static void Delete(string directory, byte[] name) => Python("os.unlink(p)", directory, name);

    private static void Python(string action, string directory, byte[] name)
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"import os, sys; p = os.fsencode(sys.argv[1]) + b'/' + bytes.fromhex(sys.argv[2]); {action}");
        start.ArgumentList.Add(directory);
        start.ArgumentList.Add(Convert.ToHexString(name));
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, error);
    }
}
