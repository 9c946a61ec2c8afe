//! Impact analysis on the built-in sample estate: patching a database
//! tonight, then a whole region failing, then the order to bring it back.
//!
//! Run it with `cargo run --example blast_radius`.

use itam_cmdb::{Estate, Impact, ImpactQuery, ImpactState, OperationalStatus, ResourceId, sample};

fn main() -> Result<(), itam_cmdb::Error> {
    let estate = sample::estate();
    let cmdb = estate.cmdb();

    // 1. "If we patch this database tonight, what else are we touching?"
    let db = ResourceId::new(sample::PAYMENTS_DB)?;
    println!("1. Patching {db} tonight takes it down. What else are we touching?\n");
    let impact = cmdb.blast_radius(&db)?;
    print_impact(&estate, &impact);

    // 1b. Redundancy: one checkout VM is patched; the pool keeps its quorum.
    let vm = ResourceId::new("vm-chk-euw1-01")?;
    println!("\n1b. Patching {vm} instead: the checkout pool needs one of its two members.\n");
    print_impact(&estate, &cmdb.blast_radius(&vm)?);

    // 2. A whole region fails: every configuration item in eu-west-2 at once.
    let region = "eu-west-2";
    let failed: Vec<ResourceId> = cmdb
        .iter()
        .filter(|ci| ci.region().is_some_and(|r| r.as_str() == region))
        .filter(|ci| ci.status() != OperationalStatus::Retired)
        .map(|ci| ci.id().clone())
        .collect();
    println!(
        "\n2. {region} fails: {} configuration items at once.",
        failed.len()
    );
    let scenario = ImpactQuery::scenario(failed);
    let impact = cmdb.blast_radius(&scenario)?;
    println!("   Outside {region}, this is what goes down or degrades:\n");
    print_impact(&estate, &impact);

    // 3. The order to bring everything back.
    println!("\n3. Recovery order for {region} (each wave needs only earlier waves):\n");
    let plan = impact.recovery_order();
    for wave in 0..plan.waves() {
        let steps: Vec<String> = plan
            .steps()
            .iter()
            .filter(|step| step.wave() == wave)
            .map(|step| match step.items() {
                [one] => one.to_string(),
                many => format!(
                    "[{}] (a cycle: together)",
                    many.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" + ")
                ),
            })
            .collect();
        println!("   wave {:>2}: {}", wave + 1, steps.join(", "));
    }

    // 4. Root-cause candidates of a failing service, nearest first.
    let checkout = ResourceId::new(sample::CHECKOUT_SERVICE)?;
    println!("\n4. Checkout is failing. What does it depend on, nearest first?\n");
    let needs = cmdb.dependencies(&checkout)?;
    for item in needs.iter() {
        println!(
            "   {:>2} hops  {:<12} {}",
            item.distance(),
            item.state(),
            item.path()
        );
    }
    // Behind a group, a single failure may still be fatal: ask exactly.
    println!("\n   Single points of failure behind the pool (a blast radius of each says so):");
    for item in needs
        .iter()
        .filter(|item| item.state() == ImpactState::BehindGroup)
    {
        let fatal = cmdb
            .blast_radius(item.id())?
            .get(&checkout)
            .is_some_and(|hit| hit.state() == ImpactState::Down);
        if fatal {
            println!("   - {}", item.id());
        }
    }

    println!("\nThe cycles of the estate: {:?}", cmdb.cycles());
    println!("\nThe first blast radius as Mermaid (paste into any Mermaid viewer):\n");
    print!("{}", cmdb.blast_radius(&db)?.to_mermaid());
    Ok(())
}

fn print_impact(estate: &Estate, impact: &Impact<'_>) {
    let roots: Vec<&str> = impact.roots().map(ResourceId::as_str).collect();
    for item in impact
        .iter()
        .filter(|item| !roots.contains(&item.id().as_str()))
    {
        let owner = estate
            .ci(item.id())
            .and_then(|ci| ci.owner())
            .map_or(String::new(), |owner| format!("  (tell: {owner})"));
        println!(
            "   {:<9} {:>2} hops  {}{owner}",
            item.state(),
            item.distance(),
            item.id()
        );
        if item.distance() > 0 {
            println!("             because {}", item.path());
        }
        if let Some(group) = item.group() {
            println!("             {group}");
        }
    }
    let (down, degraded) = (impact.down().count(), impact.degraded().count());
    println!("   = {down} down, {degraded} degraded");
}
