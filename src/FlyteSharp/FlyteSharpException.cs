namespace FlyteSharp;

/// <summary>
/// The one error type users see for bad input: it names the file (and line, where there is one),
/// the reason, and the fix. Every command-line entry point turns it into a non-zero exit.
/// </summary>
public class FlyteSharpException : Exception
{
    /// <summary>Creates an error with a reason and, optionally, the file, line and fix.</summary>
    public FlyteSharpException(string reason, string? file = null, int? line = null, string? fix = null, Exception? inner = null)
        : base(Format(reason, file, line, fix), inner)
    {
        Reason = reason;
        File = file;
        Line = line;
        Fix = fix;
    }

    /// <summary>What is wrong, without location or fix.</summary>
    public string Reason { get; }

    /// <summary>The file the problem is in, if any.</summary>
    public string? File { get; }

    /// <summary>The 1-based line in <see cref="File"/>, if known.</summary>
    public int? Line { get; }

    /// <summary>What the user should do about it.</summary>
    public string? Fix { get; }

    private static string Format(string reason, string? file, int? line, string? fix)
    {
        var location = file is null ? "" : line is null ? $"{file}: " : $"{file}:{line}: ";
        return fix is null ? location + reason : $"{location}{reason}\n  fix: {fix}";
    }
}
