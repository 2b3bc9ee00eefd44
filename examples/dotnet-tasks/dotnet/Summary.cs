namespace DotnetTasks;

/// <summary>Statistics of the batch totals, as analytics.stats:summarize returns them.</summary>
/// <param name="Count">Number of totals.</param>
/// <param name="Sum">Their sum.</param>
/// <param name="Mean">Their mean.</param>
/// <param name="Median">Their median.</param>
/// <param name="Stdev">Their population standard deviation.</param>
public sealed record Summary(int Count, double Sum, double Mean, double Median, double Stdev);
