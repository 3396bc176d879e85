<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
    <context>
        <name>ApplyPackagesDialog</name>
        <message numerus="yes">
            <source>Checking %n change package(s)…</source>
            <translation>
                <numerusform>Checking %n change package…</numerusform>
                <numerusform>Checking %n change packages…</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>Master %s: version %d now, %d after the apply of %n package(s). Nothing has been written yet.</source>
            <translation>
                <numerusform>Master %s: version %d now, %d after the apply of %n package. Nothing has been written yet.</numerusform>
                <numerusform>Master %s: version %d now, %d after the apply of %n packages. Nothing has been written yet.</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n conflict(s): the same field was changed in the field and at the office. Choose per field which value to keep; the other is kept in the package's report.</source>
            <translation>
                <numerusform>%n conflict: the same field was changed in the field and at the office. Choose which value to keep; the other is kept in the package's report.</numerusform>
                <numerusform>%n conflicts: the same field was changed in the field and at the office. Choose per field which value to keep; the other is kept in the package's report.</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>Applying %n change package(s)…</source>
            <translation>
                <numerusform>Applying %n change package…</numerusform>
                <numerusform>Applying %n change packages…</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>AveragedPositionDialog</name>
        <message numerus="yes">
            <source>%n fix(es) averaged from %s</source>
            <translation>
                <numerusform>%n fix averaged from %s</numerusform>
                <numerusform>%n fixes averaged from %s</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n fix(es) outside the workspace CRS's area were left out</source>
            <translation>
                <numerusform>%n fix outside the workspace CRS's area was left out</numerusform>
                <numerusform>%n fixes outside the workspace CRS's area were left out</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>CaseListPanel</name>
        <message numerus="yes">
            <source>%n case(s)</source>
            <translation>
                <numerusform>%n case</numerusform>
                <numerusform>%n cases</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>FeatureForm</name>
        <message numerus="yes">
            <source>{0}: edit %n features</source>
            <translation>
                <numerusform>{0}: edit %n feature</numerusform>
                <numerusform>{0}: edit %n features</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>GpsImportDialog</name>
        <message numerus="yes">
            <source>Importing %n file(s)…</source>
            <translation>
                <numerusform>Importing %n file…</numerusform>
                <numerusform>Importing %n files…</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n point(s)</source>
            <translation>
                <numerusform>%n point</numerusform>
                <numerusform>%n points</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n waypoint(s)</source>
            <translation>
                <numerusform>%n waypoint</numerusform>
                <numerusform>%n waypoints</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n stationary session(s) (%s) stored as one averaged waypoint each</source>
            <translation>
                <numerusform>%n stationary session (%s) stored as one averaged waypoint each</numerusform>
                <numerusform>%n stationary sessions (%s) stored as one averaged waypoint each</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n fix(es)</source>
            <translation>
                <numerusform>%n fix</numerusform>
                <numerusform>%n fixes</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n fix(es) of stationary sessions kept as GPS track points (GPS &gt; Use averaged position of an imported session… averages them)</source>
            <translation>
                <numerusform>%n fix of stationary sessions kept as GPS track points (GPS &gt; Use averaged position of an imported session… averages it)</numerusform>
                <numerusform>%n fixes of stationary sessions kept as GPS track points (GPS &gt; Use averaged position of an imported session… averages them)</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n NMEA sentence(s) skipped for a wrong checksum</source>
            <translation>
                <numerusform>%n NMEA sentence skipped for a wrong checksum</numerusform>
                <numerusform>%n NMEA sentences skipped for a wrong checksum</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n empty segment(s), counted but not drawn</source>
            <translation>
                <numerusform>%n empty segment, counted but not drawn</numerusform>
                <numerusform>%n empty segments, counted but not drawn</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n track(s) or route(s) without any line: not stored</source>
            <translation>
                <numerusform>%n track or route without any line: not stored</numerusform>
                <numerusform>%n tracks or routes without any line: not stored</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n time(s) had no zone: read as UTC%s</source>
            <translation>
                <numerusform>%n time had no zone: read as UTC%s</numerusform>
                <numerusform>%n times had no zone: read as UTC%s</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n time(s) could not be read (stored as missing)</source>
            <translation>
                <numerusform>%n time could not be read (stored as missing)</numerusform>
                <numerusform>%n times could not be read (stored as missing)</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n file(s) gave nothing to keep: see the notes.</source>
            <translation>
                <numerusform>%n file gave nothing to keep: see the notes.</numerusform>
                <numerusform>%n files gave nothing to keep: see the notes.</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>GpsMenu</name>
        <message numerus="yes">
            <source>Averaged position of %n fix(es) used (±%.1f m)</source>
            <translation>
                <numerusform>Averaged position of %n fix used (±%.1f m)</numerusform>
                <numerusform>Averaged position of %n fixes used (±%.1f m)</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>Match %n waypoint(s) to %s</source>
            <translation>
                <numerusform>Match %n waypoint to %s</numerusform>
                <numerusform>Match %n waypoints to %s</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n facility(ies) moved onto their waypoints</source>
            <translation>
                <numerusform>%n facility moved onto its waypoint</numerusform>
                <numerusform>%n facilities moved onto their waypoints</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n created (undoable; Save writes them)</source>
            <translation>
                <numerusform>%n created (undoable; Save writes them)</numerusform>
                <numerusform>%n created (undoable; Save writes them)</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>IdentifyPanel</name>
        <message numerus="yes">
            <source>Photos (%n)</source>
            <translation>
                <numerusform>Photos (%n)</numerusform>
                <numerusform>Photos (%n)</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>ImportInventoryDialog</name>
        <message numerus="yes">
            <source>Checking %n row(s)…</source>
            <translation>
                <numerusform>Checking %n row…</numerusform>
                <numerusform>Checking %n rows…</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n new</source>
            <translation>
                <numerusform>%n new</numerusform>
                <numerusform>%n new</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n matching a feature</source>
            <translation>
                <numerusform>%n matching a feature</numerusform>
                <numerusform>%n matching a feature</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n row(s) checked</source>
            <translation>
                <numerusform>%n row checked</numerusform>
                <numerusform>%n rows checked</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n pass</source>
            <translation>
                <numerusform>%n passes</numerusform>
                <numerusform>%n pass</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n break a rule</source>
            <translation>
                <numerusform>%n breaks a rule</numerusform>
                <numerusform>%n break a rule</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>ImportMenu</name>
        <message numerus="yes">
            <source>Import %n row(s) of %s into %s</source>
            <translation>
                <numerusform>Import %n row of %s into %s</numerusform>
                <numerusform>Import %n rows of %s into %s</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>InspectionsMenu</name>
        <message numerus="yes">
            <source>Inspections (%n)</source>
            <translation>
                <numerusform>Inspections (%n)</numerusform>
                <numerusform>Inspections (%n)</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>MainWindow</name>
        <message numerus="yes">
            <source>Delete %n feature(s)</source>
            <translation>
                <numerusform>Delete %n feature</numerusform>
                <numerusform>Delete %n features</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n feature(s) selected</source>
            <translation>
                <numerusform>%n feature selected</numerusform>
                <numerusform>%n features selected</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>Edits saved; %n new feature(s) wait for a component code: this workspace's block of codes is used up, the office gives them codes when it applies the changes</source>
            <translation>
                <numerusform>Edits saved; %n new feature waits for a component code: this workspace's block of codes is used up, the office gives it a code when it applies the changes</numerusform>
                <numerusform>Edits saved; %n new features wait for a component code: this workspace's block of codes is used up, the office gives them codes when it applies the changes</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>SelectByExpressionDialog</name>
        <message numerus="yes">
            <source>%n feature(s) match</source>
            <translation>
                <numerusform>%n feature matches</numerusform>
                <numerusform>%n features match</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>SentReportDialog</name>
        <message numerus="yes">
            <source>%n field(s) had been changed at the office too since your last update. The master kept the value shown under Keep; your values are in the report:</source>
            <translation>
                <numerusform>%n field had been changed at the office too since your last update. The master kept the value shown under Keep; your value is in the report:</numerusform>
                <numerusform>%n fields had been changed at the office too since your last update. The master kept the values shown under Keep; your values are in the report:</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>SyncDialogs</name>
        <message numerus="yes">
            <source>%n conflict(s): the same field was changed here and at the office. Choose per field which value to keep; the other is kept in the report.</source>
            <translation>
                <numerusform>%n conflict: the same field was changed here and at the office. Choose per field which value to keep; the other is kept in the report.</numerusform>
                <numerusform>%n conflicts: the same field was changed here and at the office. Choose per field which value to keep; the other is kept in the report.</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>commands</name>
        <message numerus="yes">
            <source>Change %s of %n feature(s) of %s</source>
            <translation>
                <numerusform>Change %s of %n feature of %s</numerusform>
                <numerusform>Change %s of %n features of %s</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>Delete %n feature(s) of %s</source>
            <translation>
                <numerusform>Delete %n feature of %s</numerusform>
                <numerusform>Delete %n features of %s</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>Add %n photo(s) to %s %d</source>
            <translation>
                <numerusform>Add %n photo to %s %d</numerusform>
                <numerusform>Add %n photos to %s %d</numerusform>
            </translation>
        </message>
    </context>
</TS>
