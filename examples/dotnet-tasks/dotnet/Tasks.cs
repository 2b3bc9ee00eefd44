using FlyteSharp.Tasks;
using Newtonsoft.Json;

namespace DotnetTasks;

/// <summary>
/// The tasks. <see cref="OrderPipeline"/> runs in a container of the pricing image, fans out one
/// <see cref="PriceBatch"/> child per batch (each its own container, submitted through the driver's controller API) and
/// hands the totals to a Python task in the other environment. Tasks are static members so the .NET worker finds them
/// by name in the bundle.
/// </summary>
public static class OrderTasks
{
    /// <summary>Statistics of the batch totals (python/analytics/stats.py, standard library only).</summary>
    public static readonly FlyteTask<List<double>, Summary> Summarize =
        Envs.Analytics.PythonTask<List<double>, Summary>("analytics.stats:summarize");

    /// <summary>Prices one batch of order lines given as JSON text (parsed with Newtonsoft.Json).</summary>
    public static readonly FlyteTask<string, BatchTotal> PriceBatch = Envs.Pricing.Task("price_batch", async (string ordersJson) =>
    {
        await Task.Yield();
        var lines = JsonConvert.DeserializeObject<List<OrderLine>>(ordersJson)
            ?? throw new ArgumentException("the batch is JSON null, expected an array of order lines", nameof(ordersJson));
        return new BatchTotal(lines.Count, Math.Round(lines.Sum(l => l.Quantity * l.UnitPrice), 2));
    });

    /// <summary>
    /// Makes <c>batches</c> batches (batch b: b lines, line i of quantity i at 2.50 × b), prices them in parallel and
    /// summarizes the totals in Python.
    /// </summary>
    public static readonly FlyteTask<int, OrderReport> OrderPipeline = Envs.Pricing.Task("order_pipeline", async (int batches) =>
    {
        if (batches is < 1 or > 50)
        {
            throw new ArgumentOutOfRangeException(nameof(batches), batches, "order_pipeline takes 1 to 50 batches");
        }

        var payloads = Enumerable.Range(1, batches)
            .Select(b => JsonConvert.SerializeObject(Enumerable.Range(1, b).Select(i => new OrderLine($"sku-{b}-{i}", i, 2.5 * b))))
            .ToList();
        var priced = await Task.WhenAll(payloads.Select(PriceBatch.InvokeAsync));
        var totals = priced.Select(p => p.Total).ToList();
        return new OrderReport(priced.Sum(p => p.Lines), totals, await Summarize.InvokeAsync(totals));
    });
}
